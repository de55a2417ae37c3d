/* utf8_problem.h: why bytes are not UTF-8, in the words of every message
 * that says so: shared by text.c and text_web.c (the browser build). Not
 * installed. */
#ifndef DINORNN_UTF8_PROBLEM_H
#define DINORNN_UTF8_PROBLEM_H

#include <stddef.h>

/* Why the bytes at p (an invalid or incomplete sequence) are not UTF-8, by
 * the well-formed byte sequences of the Unicode standard (its table 3-7). */
static inline const char *utf8_problem(const unsigned char *p, size_t n)
{
    const unsigned char b = p[0], c = n > 1 ? p[1] : 0;
    if (b >= 0x80 && b < 0xC0)
        return "a continuation byte without a lead byte";
    if (b < 0xC2 || b > 0xF4)
        return "a byte that never occurs in UTF-8";
    if (n > 1 && (c & 0xC0) == 0x80) {
        if ((b == 0xE0 && c < 0xA0) || (b == 0xF0 && c < 0x90))
            return "an overlong encoding";
        if (b == 0xED && c >= 0xA0)
            return "an encoded UTF-16 surrogate";
        if (b == 0xF4 && c >= 0x90)
            return "a code point above U+10FFFF";
    }
    return "a truncated multi-byte sequence";
}

#endif

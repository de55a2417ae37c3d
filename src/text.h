/* text.h: Unicode text (text.c): UTF-8, white space, normalisation and case
 * by GNU libunistring. The one place that knows how text is encoded or
 * cased; names.c turns lines into names with it. Not installed. */
#ifndef DINORNN_TEXT_H
#define DINORNN_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the UTF-8 character at p[0 .. n) (n >= 1) into *c and returns its
 * length, or 0 when the bytes there are not valid UTF-8, with *why saying
 * how ("an overlong encoding", ...). */
size_t drnn_utf8_next(const unsigned char *p, size_t n, uint32_t *c, const char **why);

/* The start of the last character of valid UTF-8 p[0 .. n) (n >= 1), into *c;
 * (size_t)-1 when the bytes before p + n do not end a valid character. */
size_t drnn_utf8_last(const unsigned char *p, size_t n, uint32_t *c);

/* Writes c (a Unicode scalar value) as UTF-8 into out and returns its
 * length, 1 to 4. */
size_t drnn_utf8_put(uint32_t c, char out[4]);

/* 1 for Unicode's White_Space characters (space, tab, U+00A0, U+3000, ...). */
int drnn_is_white_space(uint32_t c);

/* What the loader makes of a name's code points s[0 .. n): Unicode
 * normalisation form C, then, when lower, the full lowercase mapping
 * (locale-independent, with its context rules: final sigma) and NFC again.
 * The result goes into out (room for cap); returns its length, which may
 * exceed cap (then out holds only the first cap), or (size_t)-1 when
 * memory ran out. */
size_t drnn_text_normalize(const uint32_t *s, size_t n, int lower, uint32_t *out, size_t cap);

/* The title-case form of s[0 .. n) (the first letter of each word by the
 * title-case mapping, the rest lowercase, then NFC), into out as
 * drnn_text_normalize does. */
size_t drnn_text_title(const uint32_t *s, size_t n, uint32_t *out, size_t cap);

#endif

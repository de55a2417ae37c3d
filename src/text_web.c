/* text_web.c: src/text.h for the WebAssembly build (make web), without
 * libunistring: UTF-8 and White_Space here, normalisation and case by the
 * JavaScript engine (String.prototype.normalize, toLowerCase), which
 * implements the same Unicode algorithms as text.c's library, at the
 * engine's Unicode version (src/text_web.js). */
#include <stddef.h>
#include <stdint.h>

#include "text.h"
#include "utf8_problem.h"

/* The length of the well-formed sequence at p[0 .. n), or 0 (table 3-7). */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *c)
{
    const unsigned char b = p[0];
    if (b < 0x80) {
        *c = b;
        return 1;
    }
    size_t len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3
               : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (len == 0 || n < len)
        return 0;
    /* The second byte's range depends on the lead byte; the others are 80..BF. */
    unsigned char lo = 0x80, hi = 0xBF;
    if (b == 0xE0)
        lo = 0xA0;
    else if (b == 0xED)
        hi = 0x9F;
    else if (b == 0xF0)
        lo = 0x90;
    else if (b == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    uint32_t v = b & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3F);
    }
    *c = v;
    return len;
}

size_t drnn_utf8_next(const unsigned char *p, size_t n, uint32_t *c, const char **why)
{
    size_t k = utf8_decode(p, n, c);
    if (k == 0)
        *why = utf8_problem(p, n);
    return k;
}

size_t drnn_utf8_last(const unsigned char *p, size_t n, uint32_t *c)
{
    /* The character ending at p + n starts 1 to 4 bytes before it. */
    for (size_t k = 1; k <= 4 && k <= n; k++) {
        if (k > 1 && (p[n - k + 1] & 0xC0) != 0x80)
            break;
        if ((p[n - k] & 0xC0) == 0x80)
            continue;
        return utf8_decode(p + n - k, k, c) == k ? n - k : (size_t)-1;
    }
    return (size_t)-1;
}

size_t drnn_utf8_put(uint32_t c, char out[4])
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if ((c >= 0xD800 && c < 0xE000) || c > 0x10FFFF)
        return 0; /* not a scalar value: libunistring's u8_uctomb refuses it too */
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

int drnn_is_white_space(uint32_t c)
{
    /* Unicode's PropList.txt, White_Space (unchanged since Unicode 6.3). */
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* In src/text_web.js (a --js-library): NFC and lowercase, title case. */
extern size_t drnn_js_normalize(const uint32_t *s, size_t n, int lower, uint32_t *out,
                                size_t cap);
extern size_t drnn_js_title(const uint32_t *s, size_t n, uint32_t *out, size_t cap);

size_t drnn_text_normalize(const uint32_t *s, size_t n, int lower, uint32_t *out, size_t cap)
{
    /* ASCII, the text of most lists, is in NFC and maps letter by letter. */
    size_t i = 0;
    while (i < n && s[i] < 0x80)
        i++;
    if (i == n) {
        for (i = 0; i < n && i < cap; i++)
            out[i] = lower && s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i];
        return n;
    }
    return drnn_js_normalize(s, n, lower, out, cap);
}

size_t drnn_text_title(const uint32_t *s, size_t n, uint32_t *out, size_t cap)
{
    return drnn_js_title(s, n, out, cap);
}

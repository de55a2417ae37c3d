/* text.c: Unicode text by GNU libunistring: UTF-8 decoding and encoding,
 * White_Space, normalisation form C, and full case mapping (lowercase for
 * the loader, title case for the names printed), all locale-independent.
 * The library's tables follow the Unicode version it was built with
 * (libunistring 1.0: Unicode 14.0). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "text.h"
#include "utf8_problem.h"

size_t drnn_utf8_next(const unsigned char *p, size_t n, uint32_t *c, const char **why)
{
    ucs4_t uc;
    int k = u8_mbtoucr(&uc, p, n);
    if (k <= 0) {
        *why = utf8_problem(p, n);
        return 0;
    }
    *c = uc;
    return (size_t)k;
}

size_t drnn_utf8_last(const unsigned char *p, size_t n, uint32_t *c)
{
    ucs4_t uc;
    const uint8_t *at = u8_prev(&uc, p + n, p);
    if (!at)
        return (size_t)-1;
    *c = uc;
    return (size_t)(at - p);
}

size_t drnn_utf8_put(uint32_t c, char out[4])
{
    int k = u8_uctomb((uint8_t *)out, c, 4);
    return k > 0 ? (size_t)k : 0;
}

int drnn_is_white_space(uint32_t c)
{
    return uc_is_property_white_space(c);
}

/* A libunistring result into out[cap]: its length, or (size_t)-1 on failure. */
static size_t take(uint32_t *r, size_t len, uint32_t *out, size_t cap)
{
    if (!r)
        return (size_t)-1;
    if (r != out) { /* it did not fit: the library allocated it */
        memcpy(out, r, (len < cap ? len : cap) * sizeof *out);
        free(r);
    }
    return len;
}

/* Code points of a name the buffers on the stack take before the library
 * allocates: the loader's longest line (names.c), with room to grow. */
#define ROOM 1024

size_t drnn_text_normalize(const uint32_t *s, size_t n, int lower, uint32_t *out, size_t cap)
{
    /* ASCII, the text of most lists, is in NFC and maps letter by letter:
     * the library's per-character mapping gives the same as its string
     * functions, without a call per name. */
    size_t i = 0;
    while (i < n && s[i] < 0x80)
        i++;
    if (i == n) {
        for (i = 0; i < n && i < cap; i++)
            out[i] = lower ? uc_tolower(s[i]) : s[i];
        return n;
    }
    uint32_t tmp[ROOM];
    size_t len = lower ? ROOM : cap;
    uint32_t *nfc = u32_normalize(UNINORM_NFC, s, n, lower ? tmp : out, &len);
    if (!lower || !nfc)
        return take(nfc, len, out, cap);
    size_t got = cap;
    uint32_t *r = u32_tolower(nfc, len, NULL, UNINORM_NFC, out, &got);
    if (nfc != tmp)
        free(nfc);
    return take(r, got, out, cap);
}

size_t drnn_text_title(const uint32_t *s, size_t n, uint32_t *out, size_t cap)
{
    size_t len = cap;
    uint32_t *r = u32_totitle(s, n, NULL, UNINORM_NFC, out, &len);
    return take(r, len, out, cap);
}

/* dinornn/rng.h: the project's own pseudo-random generator (xoshiro256**
 * seeded through splitmix64). Its whole state is a value that checkpoints
 * save, so results never depend on the C library or on the clock. */
#ifndef DINORNN_RNG_H
#define DINORNN_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drnn_rng {
    uint64_t s[4];
} drnn_rng;

/* Any seed, 0 included, gives a valid non-zero state. */
void drnn_rng_seed(drnn_rng *rng, uint64_t seed);
/* The next 64 random bits. Inline, as is the next function, so that loops
 * drawing one number per element (dropout masks) do not call out. */
static inline uint64_t drnn_rng_next(drnn_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t x = s[1] * 5, result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double drnn_rng_uniform(drnn_rng *rng)
{
    return (double)(drnn_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), without modulo bias; n must be > 0. */
uint64_t drnn_rng_below(drnn_rng *rng, uint64_t n);

/* order[0 .. n-1] = a Fisher-Yates shuffle of 0 .. n-1: from the last place
 * down to the second, place i is swapped with drnn_rng_below(rng, i + 1).
 * The trainer's epochs and drnn_split draw their orders with it, so that
 * their draws (and the checkpoints that save them) never drift apart. */
void drnn_shuffle(uint32_t *order, size_t n, drnn_rng *rng);

#ifdef __cplusplus
}
#endif
#endif

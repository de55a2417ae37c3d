/* dinornn/rng.h: the project's own pseudo-random generator (xoshiro256**
 * seeded through splitmix64). Its whole state is a value that checkpoints
 * save, so results never depend on the C library or on the clock. */
#ifndef DINORNN_RNG_H
#define DINORNN_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drnn_rng {
    uint64_t s[4];
} drnn_rng;

/* Any seed, 0 included, gives a valid non-zero state. */
void drnn_rng_seed(drnn_rng *rng, uint64_t seed);
uint64_t drnn_rng_next(drnn_rng *rng);
/* Uniform integer in [0, n), without modulo bias; n must be > 0. */
uint64_t drnn_rng_below(drnn_rng *rng, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double drnn_rng_uniform(drnn_rng *rng);

#ifdef __cplusplus
}
#endif
#endif

/* rng.c: xoshiro256** (Blackman and Vigna), seeded by splitmix64. The step
 * itself is inline in rng.h, so that loops drawing per element inline it. */
#include "dinornn/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void drnn_rng_seed(drnn_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t drnn_rng_below(drnn_rng *rng, uint64_t n)
{
    /* Reject the top partial block so that every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = drnn_rng_next(rng);
    while (x >= limit);
    return x % n;
}

void drnn_shuffle(uint32_t *order, size_t n, drnn_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)drnn_rng_below(rng, (uint64_t)i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

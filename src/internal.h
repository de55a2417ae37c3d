/* internal.h: helpers shared by the library's sources; not installed. */
#ifndef DINORNN_INTERNAL_H
#define DINORNN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dinornn/error.h"
#include "dinornn/model.h"
#include "dinornn/train.h"

#if defined(__GNUC__)
#define DRNN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DRNN_ALWAYS_INLINE __attribute__((always_inline))
#else
#define DRNN_PRINTF(f, a)
#define DRNN_ALWAYS_INLINE
#endif

#include "error_internal.h"

/* OpenMP pragmas that vanish, warning-free, in a build without OpenMP. */
#ifdef _OPENMP
#include <omp.h>
#define DRNN_OMP(directive) _Pragma(#directive)
static inline int drnn_thread_index(void) { return omp_get_thread_num(); }
/* The threads of the region the caller runs in (the runtime may give
 * fewer than asked). */
static inline int drnn_team_threads(void) { return omp_get_num_threads(); }
/* OMP_NUM_THREADS can ask for anything: 70000 crashes libgomp, and a value
 * past INT_MAX comes back as 0 or negative. Within 1, OMP_THREAD_LIMIT and
 * DRNN_MAX_THREADS. */
static inline int drnn_max_threads(void)
{
    int n = omp_get_max_threads(), limit = omp_get_thread_limit();
    n = n < limit ? n : limit;
    return n < 1 ? 1 : n < DRNN_MAX_THREADS ? n : DRNN_MAX_THREADS;
}
#else
#define DRNN_OMP(directive)
static inline int drnn_thread_index(void) { return 0; }
static inline int drnn_team_threads(void) { return 1; }
static inline int drnn_max_threads(void) { return 1; }
#endif

/* Threads for a parallel region with `work` independent pieces, of at
 * most `threads` (drnn_threads_for: of the most OpenMP allows): never more
 * than there are pieces, so no thread is started only to idle. */
static inline int drnn_threads_within(int threads, size_t work)
{
    int n = threads > 0 ? threads : 1;
    return work < (size_t)n ? (work ? (int)work : 1) : n;
}

static inline int drnn_threads_for(size_t work)
{
    return drnn_threads_within(drnn_max_threads(), work);
}

/* The alignment of the buffers the kernels read (weights, gradients,
 * workspaces): a cache line, and the widest vector (simd.h). A 64-byte
 * vector load from an address that is not a multiple of 64 spans two cache
 * lines; with glibc's 16-byte-aligned blocks every one did, and the
 * products ran 15 to 25% slower. */
#define DRNN_ALIGN 64

/* p rounded up to a multiple of DRNN_ALIGN. */
static inline void *drnn_align_up(void *p)
{
    return (char *)p + ((DRNN_ALIGN - (uintptr_t)p % DRNN_ALIGN) % DRNN_ALIGN);
}

/* n zeroed bytes at a multiple of DRNN_ALIGN, to be freed with free();
 * NULL when out of memory. */
static inline void *drnn_zalloc_aligned(size_t n)
{
    size_t rounded = n + (DRNN_ALIGN - n % DRNN_ALIGN) % DRNN_ALIGN;
    if (rounded < n)
        return NULL;
    void *p = aligned_alloc(DRNN_ALIGN, rounded ? rounded : DRNN_ALIGN);
    if (p)
        memset(p, 0, rounded);
    return p;
}

/* n * size, or 0 (with *overflow set) when the product does not fit in size_t. */
static inline size_t drnn_mul_size(size_t n, size_t size, int *overflow)
{
    if (size != 0 && n > (size_t)-1 / size) {
        *overflow = 1;
        return 0;
    }
    return n * size;
}

/* c->label_table = the labels of texts (which may be c's own table) with
 * the counts of c's names (corpus_labels.c); an empty table when c is
 * unlabeled. */
struct drnn_corpus;
struct drnn_label_table;
int drnn_corpus_count_labels(struct drnn_corpus *c, const struct drnn_label_table *texts,
                             drnn_error *err);

#endif

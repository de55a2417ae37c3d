/* dist.c: the MPI side of a distributed dinornn-train (interface dist.h):
 * starting and ending MPI, process 0's checkpoint to the others, the check
 * that all read the same data with the same settings, and the byte moves
 * the trainer's exchange asks for (drnn_exchange). The arithmetic and its
 * order are the trainer's (src/trainer.c); MPI only carries bytes, so the
 * result cannot depend on how it routes them. Only the main thread calls
 * MPI. Standard MPI-3 calls only: Open MPI and MPICH alike. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dinornn/checkpoint.h"
#include "dist.h"

/* MPI counts are int: larger buffers go in pieces of 1 GiB. */
#define PIECE ((size_t)1 << 30)

/* Whether an MPI launcher started this process: Open MPI's mpirun, MPICH's
 * Hydra and Slurm's srun set one of these. Run alone, dinornn-train is the
 * plain program: a singleton MPI_Init would start MPI's runtime, which
 * writes shared-memory files and fails under limits (ulimit -f) that the
 * program itself handles. */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

void dist_start(dist *d, int *argc, char ***argv)
{
    d->rank = 0;
    d->ranks = 1;
    d->mpi = launched_by_mpi();
    if (!d->mpi)
        return;
    int provided;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->ranks);
}

void dist_end(dist *d)
{
    if (d->mpi)
        MPI_Finalize();
}

/* How move_bytes moves a buffer. */
typedef enum transfer { TRANSFER_SEND, TRANSFER_RECV, TRANSFER_BCAST } transfer;

/* buf to or from process peer (the root of a broadcast), in pieces of at
 * most PIECE bytes: MPI counts are ints. */
static int move_bytes(transfer how, void *buf, size_t bytes, int peer)
{
    for (size_t at = 0; at < bytes; at += PIECE) {
        int n = (int)(bytes - at < PIECE ? bytes - at : PIECE), rc;
        char *piece = (char *)buf + at;
        if (how == TRANSFER_SEND)
            rc = MPI_Send(piece, n, MPI_BYTE, peer, 0, MPI_COMM_WORLD);
        else if (how == TRANSFER_RECV)
            rc = MPI_Recv(piece, n, MPI_BYTE, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        else
            rc = MPI_Bcast(piece, n, MPI_BYTE, peer, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return -1;
    }
    return 0;
}

static int send_bytes(void *ctx, const void *buf, size_t bytes, int to)
{
    (void)ctx;
    return move_bytes(TRANSFER_SEND, (void *)buf, bytes, to); /* (only read) */
}

static int recv_bytes(void *ctx, void *buf, size_t bytes, int from)
{
    (void)ctx;
    return move_bytes(TRANSFER_RECV, buf, bytes, from);
}

static int bcast_bytes(void *ctx, void *buf, size_t bytes, int root)
{
    (void)ctx;
    return move_bytes(TRANSFER_BCAST, buf, bytes, root);
}

/* Both ways at once with one peer, in pieces of at most PIECE bytes each
 * way (the peer cuts its buffers the same way: its sbytes are our rbytes). */
static int swap_bytes(void *ctx, const void *sbuf, size_t sbytes, void *rbuf, size_t rbytes,
                      int peer)
{
    (void)ctx;
    const size_t most = sbytes > rbytes ? sbytes : rbytes;
    for (size_t at = 0; at < most || at == 0; at += PIECE) {
        int ns = (int)(at < sbytes ? (sbytes - at < PIECE ? sbytes - at : PIECE) : 0);
        int nr = (int)(at < rbytes ? (rbytes - at < PIECE ? rbytes - at : PIECE) : 0);
        if (MPI_Sendrecv((const char *)sbuf + (ns ? at : 0), ns, MPI_BYTE, peer, 1,
                         (char *)rbuf + (nr ? at : 0), nr, MPI_BYTE, peer, 1, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (most == 0)
            break;
    }
    return 0;
}

int dist_share_state(const dist *d, drnn_train_state *st, drnn_error *err)
{
    if (d->ranks == 1)
        return DRNN_OK;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = DRNN_OK;
    if (d->rank == 0)
        rc = drnn_checkpoint_encode(st, &buf, &len, err);
    /* A length of 0 tells the others that process 0 has nothing to send. */
    unsigned long long n = rc ? 0 : len;
    MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (n == 0) {
        if (d->rank != 0 && err) {
            err->code = DRNN_ERR_IO;
            snprintf(err->message, sizeof err->message, "process 0 could not share its checkpoint");
        }
        return d->rank == 0 ? rc : DRNN_ERR_IO;
    }
    if (d->rank != 0 && !(buf = malloc((size_t)n))) {
        /* MPI_Abort, not a return: process 0 would wait for us forever. */
        fprintf(stderr, "out of memory for a checkpoint of %llu bytes\n", n);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    bcast_bytes(NULL, buf, (size_t)n, 0);
    if (d->rank != 0)
        rc = drnn_checkpoint_decode(st, buf, (size_t)n, "the checkpoint of process 0", 1, err);
    free(buf);
    return rc;
}

/* The settings as the user would write them, one CRC-32 for all: the
 * processes must agree on every one, or they would step differently. */
static uint64_t settings_digest(const drnn_hparams *hp, long long epochs)
{
    size_t n;
    const drnn_hparam_info *table = drnn_hparam_table(&n);
    uint32_t crc = 0;
    char text[64];
    for (size_t i = 0; i < n; i++) {
        drnn_hparam_format(hp, &table[i], text, sizeof text);
        crc = drnn_crc32(crc, text, strlen(text) + 1);
    }
    snprintf(text, sizeof text, "%lld", epochs);
    return drnn_crc32(crc, text, strlen(text) + 1);
}

int dist_check_same(const dist *d, uint64_t train_fp, uint64_t val_fp, const drnn_hparams *hp,
                    long long epochs, drnn_error *err)
{
    if (d->ranks == 1)
        return DRNN_OK;
    unsigned long long mine[3] = {train_fp, val_fp, settings_digest(hp, epochs)};
    unsigned long long *all = malloc((size_t)d->ranks * sizeof mine);
    if (!all) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Allgather(mine, 3, MPI_UNSIGNED_LONG_LONG, all, 3, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    int rc = DRNN_OK;
    static const char *const what[] = {"training names", "validation names", "settings"};
    for (int r = 1; r < d->ranks && !rc; r++)
        for (int k = 0; k < 3 && !rc; k++)
            if (all[3 * r + k] != all[k]) {
                rc = DRNN_ERR_MISMATCH;
                if (err) {
                    err->code = rc;
                    snprintf(err->message, sizeof err->message,
                             "process %d of the MPI job has other %s than process 0 "
                             "(fingerprint %016llx, not %016llx): every process must read the "
                             "same data with the same options",
                             r, what[k], all[3 * r + k], all[k]);
                }
            }
    free(all);
    return rc;
}

void dist_exit(dist *d, int status)
{
    if (d->mpi) {
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Finalize();
    }
    exit(status);
}

int dist_trainer(const dist *d, drnn_trainer *t, drnn_error *err)
{
    drnn_exchange x = {.rank = d->rank, .ranks = d->ranks, .ctx = NULL,
                       .send = send_bytes, .recv = recv_bytes, .bcast = bcast_bytes,
                       .sendrecv = swap_bytes};
    return drnn_trainer_distribute(t, &x, err);
}

/* Host tasks: work that runs on the host over device buffers, in queue
 * order, without the caller ever waiting: the host GEMM for CPU devices
 * (oneDNN's sgemm or OpenBLAS: their buffers live in host memory and both are
 * several times faster
 * there than CLBlast's generic kernels compiled by PoCL), and any other host
 * provider (sc_host_task).
 *
 * sc_host_task enqueues a marker (everything before the task) and a barrier
 * on a user event (everything after waits for it), and hands the job to the
 * context's host thread: that thread waits for the marker, maps the buffers
 * on a second queue, runs the task, unmaps, and completes the user event.
 * The device queue keeps its order and the caller goes on enqueueing.
 * (clEnqueueNativeKernel would be simpler, but PoCL 3.1 loses what a native
 * kernel writes to a buffer that an earlier native kernel read: reproduced
 * while writing this.) */
#include "ctx_internal.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct gemm_job {
    sc_host_fn_mapped fn;
    void *user;
    cl_mem mems[SC_HOST_TASK_MAX_BUFFERS];
    int n_mems;
    sc_gemm_args g;  /* the GEMM's arguments when fn is the GEMM (user points here) */
    int dnnl;        /* the GEMM runs on oneDNN's sgemm, else on the host BLAS */
    cl_event before; /* the marker: inputs are ready */
    cl_event done;   /* user event the queue's barrier waits on */
    double *ms;      /* where to store the host time (NULL: not profiled) */
    sc_gemm_scratch *scratch; /* the worker's, set when the job runs */
    struct gemm_job *next;
} gemm_job;

struct sc_gemm_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gemm_job *head, *tail;
    int stop;
    cl_command_queue map_queue;
    sc_ctx *ctx;
    sc_gemm_scratch scratch; /* grows to the largest GEMM that needs one */
    char error[1024];    /* first failure, reported by sc_gemm_worker_error */
    sc_status error_status;
};

/* The GEMM on the host BLAS, on host pointers to the buffers' first floats. */
static void gemm_on_host(const sc_gemm_args *g, const float *a, const float *b, float *c)
{
    enum CBLAS_ORDER order = g->layout == SC_ROW_MAJOR ? CblasRowMajor : CblasColMajor;
    enum CBLAS_TRANSPOSE ta = g->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->trans_b ? CblasTrans : CblasNoTrans;
    size_t batch = g->batch ? g->batch : 1;
    a += g->a_off;
    b += g->b_off;
    c += g->c_off;
    for (size_t i = 0; i < batch; i++)
        cblas_sgemm(order, ta, tb, (int)g->m, (int)g->n, (int)g->k, g->alpha, a + i * g->a_stride,
                    (int)g->lda, b + i * g->b_stride, (int)g->ldb, g->beta, c + i * g->c_stride,
                    (int)g->ldc);
}

/* ------------------------------------------------------ mapped buffers */

typedef struct mapping {
    cl_mem mem;
    float *ptr;
} mapping;

/* Maps each distinct buffer once (a GEMM's A, B and C may share one). */
static cl_int map_all(cl_command_queue q, const cl_mem *mems, int n, mapping *maps, int *n_maps)
{
    *n_maps = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < *n_maps; j++)
            seen |= maps[j].mem == mems[i];
        if (seen || !mems[i])
            continue;
        cl_int rc;
        void *p = clEnqueueMapBuffer(q, mems[i], CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0,
                                     sc_buffer_size(mems[i]), 0, NULL, NULL, &rc);
        if (rc != CL_SUCCESS)
            return rc;
        maps[*n_maps].mem = mems[i];
        maps[*n_maps].ptr = p;
        (*n_maps)++;
    }
    return CL_SUCCESS;
}

static float *mapped(const mapping *maps, int n, cl_mem mem)
{
    for (int i = 0; i < n; i++)
        if (maps[i].mem == mem)
            return maps[i].ptr;
    return NULL;
}

/* Unmaps and waits for the unmaps, so the device sees the results. */
static cl_int unmap_all(cl_command_queue q, mapping *maps, int n)
{
    cl_int first = CL_SUCCESS;
    for (int i = 0; i < n; i++) {
        cl_int rc = clEnqueueUnmapMemObject(q, maps[i].mem, maps[i].ptr, 0, NULL, NULL);
        if (rc != CL_SUCCESS && first == CL_SUCCESS)
            first = rc;
    }
    cl_int rc = clFinish(q);
    return first != CL_SUCCESS ? first : rc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* The GEMM as a host task: ptrs are A, B, C. */
static sc_status run_gemm(void *user, float **ptrs, sc_error *err)
{
    const gemm_job *j = user;
    if (j->dnnl)
        return sc_gemm_dnnl_run(&j->g, ptrs[0], ptrs[1], ptrs[2], j->scratch, err);
    gemm_on_host(&j->g, ptrs[0], ptrs[1], ptrs[2]);
    return SC_OK;
}

/* ---------------------------------------------------------- the thread */

/* Keeps the first failure until sc_gemm_worker_error reports it. */
static void record_message(sc_gemm_worker *w, sc_status st, const char *msg)
{
    pthread_mutex_lock(&w->mu);
    if (!w->error[0]) {
        snprintf(w->error, sizeof w->error, "%s", msg);
        w->error_status = st;
    }
    pthread_mutex_unlock(&w->mu);
}

static void record_error(sc_gemm_worker *w, const char *call, cl_int rc)
{
    char msg[256];
    snprintf(msg, sizeof msg, "host task: %s failed: %s", call, sc_cl_error_name(rc));
    record_message(w, SC_ERR_OPENCL, msg);
}

/* Runs the task's function over the mapped pointers; 0 when it failed (its
 * message is recorded). */
static int call_task(sc_gemm_worker *w, gemm_job *j, const mapping *maps, int n)
{
    float *ptrs[SC_HOST_TASK_MAX_BUFFERS];
    for (int i = 0; i < j->n_mems; i++)
        ptrs[i] = j->mems[i] ? mapped(maps, n, j->mems[i]) : NULL;
    sc_error err = {0};
    j->scratch = &w->scratch;
    double t0 = now_ms();
    sc_status st = j->fn(j->fn == run_gemm ? (void *)j : j->user, ptrs, &err);
    if (j->ms)
        *j->ms = now_ms() - t0;
    if (st != SC_OK)
        record_message(w, st, err.msg[0] ? err.msg : "host task failed (no message)");
    return st == SC_OK;
}

static void run_job(sc_gemm_worker *w, gemm_job *j)
{
    cl_int rc = clWaitForEvents(1, &j->before);
    mapping maps[SC_HOST_TASK_MAX_BUFFERS];
    int n = 0;
    if (rc != CL_SUCCESS) {
        record_error(w, "waiting for a host task's inputs", rc);
    } else if ((rc = map_all(w->map_queue, j->mems, j->n_mems, maps, &n)) != CL_SUCCESS) {
        record_error(w, "clEnqueueMapBuffer", rc);
    } else if (!call_task(w, j, maps, n)) {
        rc = -1;
    }
    cl_int urc = unmap_all(w->map_queue, maps, n);
    if (rc == CL_SUCCESS && urc != CL_SUCCESS) {
        record_error(w, "clEnqueueUnmapMemObject", urc);
        rc = urc;
    }
    /* Complete the event even when the task failed: the recorded message
     * reaches the caller at its next blocking call (every one checks it),
     * and nothing hangs. A negative status would be the OpenCL way, but
     * PoCL 3.1 aborts in pocl_update_event_failed on it (reproduced with
     * tests/runtime/test_async.c). */
    clSetUserEventStatus(j->done, CL_COMPLETE);
    clReleaseEvent(j->before);
    clReleaseEvent(j->done);
    free(j);
}

static void *worker_main(void *arg)
{
    sc_gemm_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break; /* stop, and nothing left */
        gemm_job *j = w->head;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        run_job(w, j);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static sc_status start_worker(sc_ctx *ctx)
{
    sc_gemm_worker *w = calloc(1, sizeof *w);
    if (!w)
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory for the GEMM thread");
    cl_int rc;
    w->ctx = ctx;
    w->map_queue = clCreateCommandQueue(ctx->context, ctx->device, 0, &rc);
    if (rc != CL_SUCCESS) {
        free(w);
        return sc_cl_fail(ctx, rc, "clCreateCommandQueue", "host gemm queue");
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        clReleaseCommandQueue(w->map_queue);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "cannot start the GEMM thread");
    }
    ctx->gemm_worker = w;
    return SC_OK;
}

void sc_gemm_worker_stop(sc_ctx *ctx)
{
    sc_gemm_worker *w = ctx->gemm_worker;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    clReleaseCommandQueue(w->map_queue);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->scratch.data);
    free(w);
    ctx->gemm_worker = NULL;
}

sc_status sc_gemm_worker_error(sc_ctx *ctx)
{
    sc_gemm_worker *w = ctx->gemm_worker;
    if (!w)
        return SC_OK;
    pthread_mutex_lock(&w->mu);
    char msg[sizeof w->error];
    snprintf(msg, sizeof msg, "%s", w->error);
    sc_status st = w->error_status;
    w->error[0] = '\0';
    pthread_mutex_unlock(&w->mu);
    return msg[0] ? sc_fail(&ctx->err, st, "%s", msg) : SC_OK;
}

/* ---------------------------------------------------------- enqueueing */

static sc_status enqueue_job(sc_ctx *ctx, gemm_job *j, cl_event *ev)
{
    if (!ctx->gemm_worker) {
        sc_status st = start_worker(ctx);
        if (st != SC_OK) {
            free(j);
            return st;
        }
    }
    cl_int rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &j->before);
    if (rc == CL_SUCCESS)
        j->done = clCreateUserEvent(ctx->context, &rc);
    if (rc == CL_SUCCESS)
        rc = clEnqueueBarrierWithWaitList(ctx->queue, 1, &j->done, ev);
    if (rc != CL_SUCCESS) {
        if (j->done) {
            clSetUserEventStatus(j->done, -1);
            clReleaseEvent(j->done);
        }
        if (j->before)
            clReleaseEvent(j->before);
        free(j);
        return sc_cl_fail(ctx, rc, "clEnqueueMarker/BarrierWithWaitList", "host task");
    }
    sc_gemm_worker *w = ctx->gemm_worker;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return SC_OK;
}

sc_status sc_gemm_host(sc_ctx *ctx, const sc_gemm_args *g, cl_event *ev, double *ms)
{
    gemm_job *j = calloc(1, sizeof *j);
    if (!j)
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory for a GEMM");
    j->fn = run_gemm;
    j->g = *g;
    j->dnnl = ctx->gemm == SC_GEMM_DNNL;
    j->mems[0] = g->a;
    j->mems[1] = g->b;
    j->mems[2] = g->c;
    j->n_mems = 3;
    j->ms = ms;
    return enqueue_job(ctx, j, ev);
}

sc_status sc_host_task(sc_ctx *ctx, sc_host_fn_mapped fn, void *user, const cl_mem *mems,
                       int n_mems, cl_event *ev, double *ms)
{
    if (ev)
        *ev = NULL;
    if (!fn || n_mems < 0 || n_mems > SC_HOST_TASK_MAX_BUFFERS)
        return sc_fail(&ctx->err, SC_ERR_ARG, "host task: %d buffers (at most %d)", n_mems,
                       SC_HOST_TASK_MAX_BUFFERS);
    gemm_job *j = calloc(1, sizeof *j);
    if (!j)
        return sc_fail(&ctx->err, SC_ERR_NOMEM, "out of host memory for a host task");
    j->fn = fn;
    j->user = user;
    for (int i = 0; i < n_mems; i++)
        j->mems[i] = mems[i];
    j->n_mems = n_mems;
    j->ms = ms;
    return enqueue_job(ctx, j, ev);
}

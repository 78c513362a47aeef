/* Every app is linked with this file: it makes oneDNN's OpenMP threads
 * sleep, not spin, when a primitive ends (OMP_WAIT_POLICY=passive) unless
 * the user chose a policy.
 *
 * Why: on a CPU OpenCL device, oneDNN's convolutions and GEMMs (host tasks)
 * alternate with the OpenCL kernels that PoCL runs on its own threads over
 * the same cores. By default libgomp's idle threads spin for a while (its
 * GOMP_SPINCOUNT) after each parallel region, taking the cores those kernels
 * need: MobileNet-SphereFace inference measured 95-103 ms per batch of 32
 * spinning against 73-75 ms passive, SphereFace-20 training 5-8% faster
 * (bench/README.md, "OpenMP wait policy").
 *
 * libgomp reads the variable once, in its constructor, before main; the
 * executable's preinit functions run before any shared library's
 * constructor, so the variable is set there. A program that embeds the
 * library sets it in its own environment (README, "Performance"). */
#include <stdlib.h>

static void passive_openmp(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    (void)envp;
    setenv("OMP_WAIT_POLICY", "passive", 0); /* 0: keep the user's choice */
}

__attribute__((section(".preinit_array"), used)) static void (*const k_preinit)(int, char **,
                                                                                char **) =
    passive_openmp;

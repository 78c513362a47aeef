/* The training monitor (cl/monitor.cl): per-iteration loss, accuracy and a
 * non-finite flag accumulated on the device, and a finiteness check of a
 * buffer. The monitor is SC_MONITOR_FLOATS floats at these slots: */
#ifndef SC_OPS_MONITOR_H
#define SC_OPS_MONITOR_H

#define SC_MONITOR_LOSS 0      /* sum of loss_weight * loss over the loss tops and passes */
#define SC_MONITOR_ACCURACY 1  /* sum of the accuracy values added */
#define SC_MONITOR_NONFINITE 2 /* 1 once an added value was NaN or infinite */
#define SC_MONITOR_STOP 3      /* set by the host: a rank asked the job to stop (MPI) */
#define SC_MONITOR_FLOATS 4

/* Records m[slot] += weight * value[0] (value: a 1-float device buffer),
 * setting m[SC_MONITOR_NONFINITE] when the value is not finite. */
sc_status sc_monitor_add(sc_plan *plan, const char *name, cl_mem value, float weight, int slot,
                         cl_mem monitor);

/* Records flag[0] = 1 if any of x[0..n) is not finite (flag[0] is zeroed first). */
sc_status sc_monitor_nonfinite(sc_plan *plan, const char *name, size_t n, cl_mem x, cl_mem flag);

#endif

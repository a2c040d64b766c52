/**
 * Thresholds of the rules read from a PyTorch trace (torch-rules.ts), each with its source. Shares
 * are of the traced window (first to last event of the trace) or, where named, of the GPU's active
 * span (first to last GPU event).
 */

/**
 * The GPU counts as starved when at least this share of its active span is idle, %. HTA reports idle
 * time as a share of the span (Holistic Trace Analysis, "Temporal Breakdown" and "Idle Time
 * Breakdown"); 30% is perfloop's own choice: a third of the GPU's time lost is the first thing to fix
 * in any of HTA's case studies, and smaller idle shares are within what launch gaps alone cost.
 */
export const TRACE_IDLE_MIN_PCT = 30;

/**
 * Kernels shorter than this (median), µs, are launch-overhead-sized: NVIDIA's "Getting Started with
 * CUDA Graphs" (developer blog, 2019) shows kernels of a few µs each where launch overhead is a
 * significant part of the time, and CUDA graphs as the remedy. 10 µs is perfloop's own cut.
 */
export const SHORT_KERNEL_US = 10;

/** A launch-bound reading needs at least this many kernels in the window. Own choice: fewer is a
 *  start-up phase, not a pattern. */
export const LAUNCH_MIN_KERNELS = 50;

/**
 * Median idle gap below which the host is launching back to back (launch-bound), µs; at or above
 * it the host is doing other work between launches (starved). Own choice: five times a typical
 * `cudaLaunchKernel` host duration of a few µs (the launches' own median is shown with the verdict).
 */
export const LAUNCH_GAP_US = 50;

/** gpu-starved from a trace: host-wait (HTA's category) is at least this share of the idle time. Own choice: most of it. */
export const HOST_WAIT_MIN_FRAC = 0.5;

/**
 * gpu-transfer: host↔device copies take at least this share of the traced window. HTA's temporal
 * breakdown counts memory copies as "non-compute" GPU time; 10% is perfloop's own choice (twice
 * the default `min_improvement`, so removing them would be a claimable gain).
 */
export const TRANSFER_MIN_SHARE = 0.1;

/**
 * gpu-sync: the host is blocked in synchronizing CUDA calls (profile/torch-copies.ts `SYNC_CALLS`)
 * for at least this share of the traced window, over at least SYNC_MIN_CALLS calls. Own choices:
 * 10% as for transfers; a handful of syncs (start, end, checkpoints) is normal.
 */
export const SYNC_MIN_SHARE = 0.1;
/** See SYNC_MIN_SHARE. */
export const SYNC_MIN_CALLS = 10;

/**
 * The roofline reading (gpu-bandwidth / gpu-compute) needs kernels whose FLOPs and bytes (shapes
 * with types) the trace recorded to cover at least this share of kernel time, and the device in the peaks table
 * (gpu-peaks.ts). Own choice: a reading about a third of the GPU's work is worth a verdict; less
 * is an anecdote.
 */
export const ROOFLINE_MIN_KERNEL_SHARE = 0.3;

/**
 * Eager PyTorch runs each operator through the dispatcher and the Python binding: a fixed cost of
 * some µs per operator whatever its size (Horace He, "Making Deep Learning Go Brrrr From First
 * Principles", 2022: "overhead"-bound programs). A CPU trace whose top-level operators take a median
 * self time under this, µs, is reported as spending its time on per-operator overhead. Own cut.
 */
export const OP_OVERHEAD_MEDIAN_US = 20;

/**
 * Peak throughput of common NVIDIA data-centre GPUs, for the roofline reading of kernels
 * (torch-rules.ts). Dense figures (no structured sparsity), boost clocks, from NVIDIA's product
 * datasheets: A100 ("NVIDIA A100 Tensor Core GPU" datasheet, 2021), H100 ("NVIDIA H100 Tensor Core
 * GPU" datasheet, 2023; the sparsity figures halved), H200 ("NVIDIA H200 Tensor Core GPU"
 * datasheet, 2024), L4, A10, T4 and V100 (their datasheets). A ridge point (FLOP/byte) is a peak
 * FLOP/s over the peak memory bandwidth (Williams, Waterman & Patterson, "Roofline: an insightful
 * visual performance model for multicore architectures", CACM 52(4), 2009).
 */

/** One GPU model's peaks: FLOP/s (FP32 on CUDA cores; BF16/FP16 on tensor cores) and bytes/s. */
export interface GpuPeaks {
  /** The model as the table names it (e.g. "H100 SXM"). */
  model: string;
  fp32Flops: number;
  /** Dense BF16 (FP16 where the GPU has no BF16) tensor-core FLOP/s. */
  tensor16Flops: number;
  memBytesPerS: number;
}

const T = 1e12;
const GB = 1e9;

/** Name patterns, tried in order, to the model's peaks. */
const TABLE: { test: (name: string, memBytes: number | null) => boolean; peaks: GpuPeaks }[] = [
  {
    test: (n) => /H200/i.test(n),
    peaks: { model: "H200 SXM", fp32Flops: 67 * T, tensor16Flops: 989 * T, memBytesPerS: 4800 * GB },
  },
  {
    test: (n) => /H100.*PCIe/i.test(n),
    peaks: { model: "H100 PCIe", fp32Flops: 51 * T, tensor16Flops: 756 * T, memBytesPerS: 2000 * GB },
  },
  {
    test: (n) => /H100/i.test(n),
    peaks: { model: "H100 SXM", fp32Flops: 67 * T, tensor16Flops: 989 * T, memBytesPerS: 3350 * GB },
  },
  {
    test: (n, mem) => /A100/i.test(n) && /PCIe/i.test(n) && (mem ?? 0) > 60e9,
    peaks: { model: "A100 80GB PCIe", fp32Flops: 19.5 * T, tensor16Flops: 312 * T, memBytesPerS: 1935 * GB },
  },
  {
    test: (n, mem) => /A100/i.test(n) && ((mem ?? 0) > 60e9 || /80GB/i.test(n)),
    peaks: { model: "A100 80GB SXM", fp32Flops: 19.5 * T, tensor16Flops: 312 * T, memBytesPerS: 2039 * GB },
  },
  {
    test: (n) => /A100/i.test(n),
    peaks: { model: "A100 40GB", fp32Flops: 19.5 * T, tensor16Flops: 312 * T, memBytesPerS: 1555 * GB },
  },
  {
    test: (n) => /\bL4\b/i.test(n),
    peaks: { model: "L4", fp32Flops: 30.3 * T, tensor16Flops: 121 * T, memBytesPerS: 300 * GB },
  },
  {
    test: (n) => /\bA10\b/i.test(n),
    peaks: { model: "A10", fp32Flops: 31.2 * T, tensor16Flops: 125 * T, memBytesPerS: 600 * GB },
  },
  {
    test: (n) => /\bT4\b/i.test(n),
    peaks: { model: "T4", fp32Flops: 8.1 * T, tensor16Flops: 65 * T, memBytesPerS: 320 * GB },
  },
  {
    test: (n) => /V100/i.test(n),
    peaks: { model: "V100", fp32Flops: 15.7 * T, tensor16Flops: 125 * T, memBytesPerS: 900 * GB },
  },
];

/**
 * The peaks of the GPU a trace names (`deviceProperties[0].name`, e.g. "NVIDIA A100-SXM4-80GB"),
 * or null for a model not in the table (the roofline reading is then skipped, never guessed).
 * @param memBytes the device's memory (`totalGlobalMem`, bytes): tells the A100 40GB from the 80GB.
 */
export function peaksOf(name: string | null, memBytes: number | null): GpuPeaks | null {
  if (!name) return null;
  return TABLE.find((row) => row.test(name, memBytes))?.peaks ?? null;
}

/** The FP32 ridge point, FLOP/byte: below it a kernel is memory-bound on the roofline. */
export const ridgeFp32 = (p: GpuPeaks): number => p.fp32Flops / p.memBytesPerS;

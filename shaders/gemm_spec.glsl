// Workgroup shape and block size of gemm_core.glsl; included first so that loaders can size
// per-slot arrays by TM and TN.
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint TM = 16;
layout(constant_id = 3) const uint TN = 16;
const uint TNV = TN / 4;

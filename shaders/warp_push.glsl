// Push constants of warp_fwd.comp and warp_bwd.comp (mirrored by vk_push_warp in C).
layout(push_constant) uniform Push {
  uint img_off;  // first float of img [ni, C, H, W] relative to its bound range
  uint flow_off; // first float of flow [N, 2, H, W]
  uint out_off;  // forward: out [N, C, H, W]; backward: dflow [N, 2, H, W]
  uint dout_off; // backward: dout [N, C, H, W]
  uint ni;       // images (sample n uses image n % ni)
  uint n;        // flows / outputs
  uint c;        // channels
  uint h, w;     // size
  float scale;   // sample point = pixel + scale * flow
  float beta;    // backward: dflow = grad + beta * dflow
} pc;

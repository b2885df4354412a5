// Shared by the elementwise shaders that index element by element (reductions, image upload,
// random numbers): 64 invocations per workgroup, one item each, a 2-D grid of workgroups when the
// count needs more than maxComputeWorkGroupCount[0] (the host fills x first).
layout(local_size_x = 64) in;

uint ew_index() { return gl_GlobalInvocationID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x * 64u; }

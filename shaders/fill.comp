#version 450
// t = value.
#include "ew.glsl"
layout(push_constant) uniform Push { uint off, count; float value; } pc;
EW_OUT(0, t)
void main() {
  EW_FOR_EACH(pc.count) EW_STORE(t, pc.off, e, pc.count, vec4(pc.value));
}

// The lazy FP/SIMD switch of arch/fpu.hpp: the trap from EL0, and dropping a thread's state.
#include "arch/fpu.hpp"

#include "arch/context.hpp"

extern "C" void aarch64_fpu_save(ukernel::aarch64::FpuArea* area);
extern "C" void aarch64_fpu_load(const ukernel::aarch64::FpuArea* area);

namespace ukernel::aarch64 {
namespace {

// Whose registers the FP/SIMD unit holds (nullptr: none). One CPU.
Context* owner = nullptr;

}  // namespace

void fpu_claim(Context& context) {
  if (owner != &context) {
    if (owner != nullptr) {
      aarch64_fpu_save(&owner->fpu);
      owner->cpacr = kCpacrFpTrapped;
    }
    aarch64_fpu_load(&context.fpu);
    owner = &context;
  }
  context.cpacr = kCpacrFpEnabled;
}

void fpu_forget(const Context& context) {
  if (owner == &context) owner = nullptr;
}

}  // namespace ukernel::aarch64

// The root task of the system image (qemu.x86_64.system_image): loads the name service, the
// hello server (examples/hello, unchanged) and a client from the image's boot modules, each into
// an address space of its own, registers the hello server's endpoint under "hello", and waits
// for the client's verdict. A deliberately broken module ("bad_hello", a truncated ELF) must be
// refused with a message while the rest runs. Also checks that two threads of one address space
// each reach their own IPC buffer (arch/user.hpp: the FS base on x86-64, TPIDRRO_EL0 on AArch64).
// Returns the number of failed checks (0: exit status 33).
#include "arch_kit.hpp"
#include "loader.hpp"
#include "ukernel/caps.hpp"
#include "ukernel/names.hpp"

using namespace system_image;
using namespace ukernel;

namespace {

word g_failures = 0;
word g_checks = 0;

void check(bool ok, const char* what) {
  ++g_checks;
  if (!ok) ++g_failures;
  log("{} {}", ok ? "ok:" : "FAIL:", what);
}

// Module ids: the badge of each program's fault endpoint and name-service capability.
enum : word { kNamesId = 1, kHelloId = 2, kBadId = 3, kClientId = 4 };

// --- two IPC-buffer threads in one address space -----------------------------------------------
constexpr word kPeerIpcBuffer = arch::kUserIpcBuffer + 0x2000;
constexpr word kPeerStackTop = 0x1f000000;
constexpr std::size_t kLongMessage = 10;  // past the 6 message registers: through the buffers
word g_peer_endpoint = 0;

// Answers each message with its words plus one, and its own buffer's address in word 0.
void peer_main(word) {
  Message request = recv(g_peer_endpoint);
  for (;;) {
    Message reply(MessageInfo(0, request.info.length()));
    for (std::size_t i = 1; i < request.info.length(); ++i)
      set_message_word(reply, i, message_word(request, i) + 1);
    set_message_word(reply, 0, reinterpret_cast<word>(arch::user_ipc_buffer()));
    request = reply_recv(g_peer_endpoint, reply);
  }
}

void check_ipc_buffers(RootResources& root) {
  g_peer_endpoint = root.make(ObjectType::kEndpoint);
  word thread = root.make(ObjectType::kThread);
  word ipc = root.make(ObjectType::kFrame, 12);
  bool ok = g_peer_endpoint != 0 && thread != 0 && ipc != 0 &&
            map_frame(kRootAddressSpaceSlot, ipc, kPeerIpcBuffer, Rights::kRead | Rights::kWrite) ==
                Error::kOk;
  for (word i = 1; i <= 2 && ok; ++i) {
    word frame = root.make(ObjectType::kFrame, 12);
    ok = frame != 0 && map_frame(kRootAddressSpaceSlot, frame, kPeerStackTop - i * 4096,
                                 Rights::kRead | Rights::kWrite) == Error::kOk;
  }
  ok = ok &&
       thread_configure(thread, kRootCNodeSlot, kRootAddressSpaceSlot, ipc, kPeerIpcBuffer, 0) ==
           Error::kOk &&
       thread_set_priority(thread, 200) == Error::kOk &&
       thread_restart(thread, reinterpret_cast<word>(&peer_main),
                      ukernel::user::entry_stack(kPeerStackTop), 0) == Error::kOk;
  check(ok, "ipc buffers: a second thread in the root task's space, buffer at 0x10002000");
  if (!ok) return;
  Message request(MessageInfo(1, kLongMessage));
  for (std::size_t i = 0; i < kLongMessage; ++i)
    set_message_word(request, i, 100 + i);
  Message reply = call(g_peer_endpoint, request);
  bool words_ok = reply.ok() && reply.info.length() == kLongMessage;
  for (std::size_t i = 1; i < kLongMessage && words_ok; ++i)
    words_ok = message_word(reply, i) == 101 + i;
  check(words_ok, "ipc buffers: 10 words each way between two threads of one space");
  check(message_word(reply, 0) == kPeerIpcBuffer, "ipc buffers: the peer sees its own buffer");
  check(reinterpret_cast<word>(arch::user_ipc_buffer()) == arch::kUserIpcBuffer,
        "ipc buffers: the root task still sees its own buffer");
}

// --- the system --------------------------------------------------------------------------------
void run_system(RootResources& root, const boot_modules::Archive& archive) {
  Loader loader(root, archive);
  word faults = root.make(ObjectType::kEndpoint);
  word names_endpoint = root.make(ObjectType::kEndpoint);
  word hello_endpoint = root.make(ObjectType::kEndpoint);
  check(faults != 0 && names_endpoint != 0 && hello_endpoint != 0, "system: endpoints made");
  if (faults == 0 || names_endpoint == 0 || hello_endpoint == 0) return;

  const Grant names_grants[] = {{kServeSlot, names_endpoint, Rights::kAll, 0}};
  check(loader.start({"names_server", 200, kServeSlot, faults, kNamesId, names_grants, 1}) != 0,
        "system: the name server loaded from the image");
  const Grant hello_grants[] = {{kServeSlot, hello_endpoint, Rights::kAll, 0},
                                {kNamesSlot, names_endpoint, Rights::kAll, kHelloId}};
  check(loader.start({"hello_server", 150, kServeSlot, faults, kHelloId, hello_grants, 2}) != 0,
        "system: the hello server loaded from the image");

  // The hello server (examples/hello, which only serves) is registered on its behalf: with its
  // own badge, so the name service sees it as the owner of "hello".
  rpc::Client<names::Protocol> as_hello(root.mint(names_endpoint, Rights::kAll, kHelloId));
  auto registered = as_hello.call<names::Protocol::Register>(
      names::Name("hello"), rpc::Capability{root.mint(hello_endpoint, Rights::kAll, 0)});
  check(registered.ok(), "system: \"hello\" registered with the name server");

  const Grant bad_grants[] = {{kNamesSlot, names_endpoint, Rights::kAll, kBadId}};
  check(loader.start({"bad_hello", 150, 0, faults, kBadId, bad_grants, 1}) == 0,
        "system: the truncated module is refused");
  check(loader.start({"no_such_module", 150, 0, faults, kBadId, bad_grants, 1}) == 0,
        "system: a missing module is refused");

  const Grant client_grants[] = {{kNamesSlot, names_endpoint, Rights::kAll, kClientId}};
  check(loader.start({"hello_client", 100, 0, faults, kClientId, client_grants, 1}) != 0,
        "system: the client loaded from the image");
  // The client's verdict: its abort, with the number of its failed checks as the code.
  Message fault = recv(faults);
  check(fault.ok() && fault.label() == kFaultLabel && fault.badge == kClientId &&
            fault.words[0] == word(FaultKind::kAbort) && fault.words[1] == 0,
        "system: the client finished and all its checks passed");
  if (fault.badge != kClientId || fault.words[0] != word(FaultKind::kAbort))
    log("system: unexpected fault: badge {}, kind {}, address {:#x}, ip {:#x}", fault.badge,
        fault.words[0], fault.words[1], fault.words[2]);
}

}  // namespace

extern "C" word user_main(word boot_info_address) {
  RootResources root{};
  root.init(boot_info(boot_info_address));
  log("system root: boot modules {} bytes at {:#x}", root.info->modules_size,
      root.info->modules_vaddr);
  boot_modules::Archive archive;
  auto opened = boot_modules::Archive::open(reinterpret_cast<const void*>(root.info->modules_vaddr),
                                            root.info->modules_size, archive);
  check(opened == boot_modules::Error::kOk, "system: the module archive is valid");
  if (opened != boot_modules::Error::kOk) {
    log("system: {}", boot_modules::describe(opened));
    return 1;
  }
  for (std::size_t i = 0; i < archive.count(); ++i)
    log("system: module {}: {} bytes", archive.module(i).name, archive.module(i).size);
  // The modules' frame capabilities follow the untyped ones; they carry only the read right.
  word module_frame = kFirstUntypedSlot + root.info->untyped_count;
  check(map_frame(kRootAddressSpaceSlot, module_frame, 0x50000000,
                  Rights::kRead | Rights::kWrite) == Error::kInsufficientRights,
        "system: a boot module frame cannot be mapped writable");
  check_ipc_buffers(root);
  run_system(root, archive);
  log("system: {} of {} checks passed", g_checks - g_failures, g_checks);
  return g_failures;
}

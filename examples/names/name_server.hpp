// The name server: a table from names to endpoint capabilities.
//
// A registrant is known by the badge of its name-service capability; it may replace its own
// entry (as a restarted server does) but not another's. A lookup mints the registered endpoint
// with the caller's badge, so a server can tell its clients apart.
#pragma once

#include "ukernel/names.hpp"

namespace names_example {

using ukernel::Error;
using ukernel::word;
namespace rpc = ukernel::rpc;
namespace names = ukernel::names;

class NameServer : public rpc::Server<NameServer, names::Protocol> {
 public:
  static constexpr std::size_t kCapacity = 32;

  // `cnode`: the server's own CSpace CNode. Slots `first_slot` .. + kCapacity hold the table,
  // the next one a lookup's scratch copy, and the kMaxTransferCaps after it receive arguments.
  NameServer(word cnode, word first_slot) : cnode_(cnode), first_slot_(first_slot) {
    set_capability_window(scratch_slot() + 1);
  }

  rpc::Result<void> handle(names::Protocol::Register, const names::Name& name,
                           rpc::Capability endpoint) {
    Entry* entry = find(name);
    if (entry != nullptr && entry->owner != badge()) return Error::kBusy;
    if (entry == nullptr) entry = free_entry();
    if (entry == nullptr) return Error::kNotEnoughMemory;
    word slot = first_slot_ + word(entry - entries_);
    (void)ukernel::cnode_delete(cnode_, slot);
    if (Error e = ukernel::cnode_move(cnode_, slot, cnode_, endpoint.address); e != Error::kOk)
      return e;
    *entry = Entry{name, badge(), true};
    return {};
  }

  rpc::Result<rpc::Capability> handle(names::Protocol::Lookup, const names::Name& name) {
    Entry* entry = find(name);
    if (entry == nullptr) return Error::kNotFound;
    (void)ukernel::cnode_delete(cnode_, scratch_slot());
    word slot = first_slot_ + word(entry - entries_);
    if (Error e = ukernel::cnode_mint(cnode_, scratch_slot(), cnode_, slot, ukernel::Rights::kAll,
                                      badge());
        e != Error::kOk)
      return e;
    return rpc::Capability{scratch_slot()};
  }

 private:
  struct Entry {
    names::Name name;
    word owner = 0;
    bool used = false;
  };

  word scratch_slot() const { return first_slot_ + kCapacity; }
  Entry* find(const names::Name& name) {
    for (Entry& e : entries_) {
      if (e.used && e.name == name) return &e;
    }
    return nullptr;
  }
  Entry* free_entry() {
    for (Entry& e : entries_) {
      if (!e.used) return &e;
    }
    return nullptr;
  }

  word cnode_;
  word first_slot_;
  Entry entries_[kCapacity] = {};
};

}  // namespace names_example

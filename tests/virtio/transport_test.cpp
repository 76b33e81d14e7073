// The virtio PCI transport against the function model: the initialisation order, feature
// negotiation, queue set-up, MSI-X vectors, and devices that refuse or misbehave.
#include <catch2/catch.hpp>

#include "virtio/test_bus.hpp"

namespace {

using ukernel::virtio::PciLayout;
using ukernel::virtio::PciTransport;
using ukernel::virtio::QueueError;
using ukernel::virtio::SplitQueue;
using ukernel::virtio::TransportError;
using virtio_test::BlkRig;
using virtio_test::ModelWindow;
namespace status = ukernel::virtio::status;
namespace feature = ukernel::virtio::feature;

struct TransportRig : BlkRig {
  using BlkRig::BlkRig;
  TransportError attach() {
    PciLayout layout;
    REQUIRE(parse(layout) == ukernel::virtio::LayoutError::kOk);
    return transport.attach(layout, bars);
  }
  PciTransport<ModelWindow> transport;
  SplitQueue<64> queue;
};

}  // namespace

TEST_CASE("the transport follows the specification's initialisation order") {
  TransportRig rig;
  REQUIRE(rig.attach() == TransportError::kOk);
  REQUIRE(rig.transport.begin() == TransportError::kOk);
  CHECK(rig.function.device_status() == (status::kAcknowledge | status::kDriver));
  CHECK(rig.transport.device_features() & feature::kVersion1);

  std::uint64_t accepted = 0;
  REQUIRE(rig.transport.negotiate(0, virtio_blk::feature::kFlush | (1ull << 20), accepted) ==
          TransportError::kOk);
  // Only what both sides have: VERSION_1 and FLUSH, not the bit the device lacks.
  CHECK(accepted == (feature::kVersion1 | virtio_blk::feature::kFlush));
  CHECK(rig.function.driver_features() == accepted);
  CHECK((rig.function.device_status() & status::kFeaturesOk) != 0);

  CHECK(rig.transport.queue_count() == 1);
  REQUIRE(rig.transport.setup_queue(0, rig.queue, rig.queue_memory, ukernel::virtio::kNoVector) ==
          TransportError::kOk);
  // The device offered 128 entries; the driver holds 64 and asked for that (allowed for split
  // queues), and the device agreed.
  CHECK(rig.queue.size() == 64);
  rig.transport.driver_ok();
  CHECK((rig.function.device_status() & status::kDriverOk) != 0);

  SECTION("a queue that does not exist") {
    CHECK(rig.transport.setup_queue(1, rig.queue, rig.queue_memory, 0) ==
          TransportError::kQueueIndex);
  }
  SECTION("device configuration reads stay inside the structure") {
    ukernel::word value = 0;
    REQUIRE(rig.transport.read_device_config(0, 8, value) == TransportError::kOk);
    CHECK(value == BlkRig::kSectors);
    CHECK(rig.transport.read_device_config(0x3c, 1, value) == TransportError::kDeviceConfigRange);
    CHECK(rig.transport.read_device_config(~ukernel::word{0}, 4, value) ==
          TransportError::kDeviceConfigRange);
  }
  SECTION("a reset clears the device") {
    REQUIRE(rig.transport.reset() == TransportError::kOk);
    CHECK(rig.function.device_status() == 0);
    CHECK(rig.function.driver_features() == 0);
  }
}

TEST_CASE("feature negotiation refuses devices it cannot drive") {
  TransportRig rig;
  REQUIRE(rig.attach() == TransportError::kOk);
  std::uint64_t accepted = 0;

  SECTION("a legacy-only device (no VERSION_1)") {
    rig.function.misbehaviour().hide_version_1 = true;
    REQUIRE(rig.transport.begin() == TransportError::kOk);
    CHECK(rig.transport.negotiate(0, 0, accepted) == TransportError::kNoVersion1);
  }
  SECTION("a device that does not keep FEATURES_OK") {
    rig.function.misbehaviour().refuse_features_ok = true;
    REQUIRE(rig.transport.begin() == TransportError::kOk);
    CHECK(rig.transport.negotiate(0, 0, accepted) == TransportError::kFeaturesRefused);
  }
  SECTION("a device without a feature the driver requires") {
    REQUIRE(rig.transport.begin() == TransportError::kOk);
    CHECK(rig.transport.negotiate(1ull << 20, 0, accepted) == TransportError::kMissingFeature);
  }
  // The driver told the device it gave up.
  CHECK((rig.function.device_status() & status::kFailed) != 0);
  CHECK(accepted == 0);
}

TEST_CASE("a device that never finishes its reset is reported") {
  TransportRig rig;
  REQUIRE(rig.attach() == TransportError::kOk);
  rig.function.misbehaviour().stuck_in_reset = true;
  CHECK(rig.transport.begin() == TransportError::kResetTimeout);
}

TEST_CASE("queue sizes from the device are checked before the queue is used") {
  SECTION("size 0") {
    TransportRig rig({.queue_size = 0});
    REQUIRE(rig.attach() == TransportError::kOk);
    REQUIRE(rig.transport.begin() == TransportError::kOk);
    QueueError why = QueueError::kOk;
    CHECK(rig.transport.setup_queue(0, rig.queue, rig.queue_memory, ukernel::virtio::kNoVector,
                                    &why) == TransportError::kQueueSize);
    CHECK(why == QueueError::kSizeZero);
  }
  SECTION("not a power of two") {
    TransportRig rig({.queue_size = 48});
    REQUIRE(rig.attach() == TransportError::kOk);
    REQUIRE(rig.transport.begin() == TransportError::kOk);
    QueueError why = QueueError::kOk;
    CHECK(rig.transport.setup_queue(0, rig.queue, rig.queue_memory, ukernel::virtio::kNoVector,
                                    &why) == TransportError::kQueueSize);
    CHECK(why == QueueError::kSizeNotPowerOfTwo);
  }
  SECTION("ring memory too small for the size") {
    TransportRig rig({.queue_size = 64});
    REQUIRE(rig.attach() == TransportError::kOk);
    REQUIRE(rig.transport.begin() == TransportError::kOk);
    CHECK(rig.transport.setup_queue(0, rig.queue, rig.queue_memory.slice(0, 512),
                                    ukernel::virtio::kNoVector) == TransportError::kQueueMemory);
  }
}

TEST_CASE("MSI-X vectors are read back, and a device that refuses them is reported") {
  TransportRig rig;
  REQUIRE(rig.attach() == TransportError::kOk);
  REQUIRE(rig.transport.begin() == TransportError::kOk);
  CHECK(rig.transport.msix_entries() == 4);
  CHECK(rig.transport.set_config_vector(1) == TransportError::kOk);
  // A vector past the table: the device answers VIRTIO_MSI_NO_VECTOR.
  CHECK(rig.transport.set_config_vector(9) == TransportError::kVectorRefused);
  CHECK(rig.transport.program_msix_entry(4, 0xfee00000, 1) == TransportError::kNoMsix);
  rig.function.misbehaviour().refuse_vectors = true;
  CHECK(rig.transport.set_config_vector(0) == TransportError::kVectorRefused);
  CHECK(rig.transport.setup_queue(0, rig.queue, rig.queue_memory, 0) ==
        TransportError::kVectorRefused);
}

TEST_CASE("a notification offset past the notification structure is refused") {
  // A notification structure of 1 byte: queue 0's 16-bit notification would run past it.
  TransportRig rig;
  PciLayout layout;
  REQUIRE(rig.parse(layout) == ukernel::virtio::LayoutError::kOk);
  layout.notify.length = 1;
  REQUIRE(rig.transport.attach(layout, rig.bars) == TransportError::kOk);
  REQUIRE(rig.transport.begin() == TransportError::kOk);
  CHECK(rig.transport.setup_queue(0, rig.queue, rig.queue_memory, ukernel::virtio::kNoVector) ==
        TransportError::kNotifyOutside);
}

TEST_CASE("the transport refuses to act before it is attached") {
  PciTransport<ModelWindow> transport;
  std::uint64_t accepted = 0;
  CHECK(transport.begin() == TransportError::kNotAttached);
  CHECK(transport.negotiate(0, 0, accepted) == TransportError::kNotAttached);
  ukernel::virtio::BarWindows<ModelWindow> none;
  PciLayout layout;
  layout.common = {true, 0, 0, 0x38};
  layout.notify = {true, 0, 0x3000, 0x1000};
  layout.isr = {true, 0, 0x1000, 1};
  CHECK(transport.attach(layout, none) == TransportError::kWindowMissing);
}

#include <gtest/gtest.h>

#include "medchain/device_binding.hpp"
#include "support/fake_node.hpp"

namespace medchain {
namespace {

TEST(DeviceBinding, ReadsTheContractsBinding) {
    test::FakeNode node;
    JsonRpcClient rpc(node);
    EthClient eth(rpc);
    Address device{};
    device.fill(0x22);
    Bytes32 patient{};
    patient.fill(0x42);
    Bytes32 other{};
    other.fill(0x43);

    EXPECT_EQ(check_binding(eth, node.contract, device, patient), Binding::NotRegistered);
    node.devices[device] = test::FakeNode::Device{patient, 3, true};
    EXPECT_EQ(check_binding(eth, node.contract, device, patient), Binding::Bound);
    EXPECT_EQ(check_binding(eth, node.contract, device, other), Binding::OtherPatient);
    node.devices[device].active = false;
    EXPECT_EQ(check_binding(eth, node.contract, device, patient), Binding::NotRegistered);
}

}  // namespace
}  // namespace medchain

// The esp32-host binary end to end: CLI, config file, socket transport,
// file-backed outbox and the JSON lines it prints, against FakeNode served
// over HTTP on 127.0.0.1.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "medchain/hex.hpp"
#include "medchain/patient_id.hpp"
#include "medchain/signer.hpp"
#include "support/http_node_server.hpp"

namespace medchain {
namespace {

const char* kKey = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const char* kSalt = "0x1212121212121212121212121212121212121212121212121212121212121212";

struct HostRun {
    int exit_code = -1;
    std::vector<nlohmann::json> lines;
};

class Esp32HostTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/medchain-esp32-host-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir = pattern;
        const Signer signer(fixed_from_hex<32>(kKey));
        node.devices[signer.address()] =
            test::FakeNode::Device{patient_id(fixed_from_hex<32>(kSalt), "123-45-6789"), 0, true};
        node.auto_mine = true;
        write_config("http://127.0.0.1:" + std::to_string(server.port()));
    }

    void TearDown() override { std::system(("rm -rf '" + dir + "'").c_str()); }

    void write_config(const std::string& rpc_url) {
        std::ofstream(dir + "/device.json") << nlohmann::json{{"rpc_url", rpc_url},
                                                              {"chain_id", 1337},
                                                              {"contract", to_hex(node.contract)},
                                                              {"device_private_key", kKey},
                                                              {"patient_salt", kSalt},
                                                              {"device_id", "test-device"}}
                                                   .dump();
    }

    // Runs esp32-host with `args`, feeding `stdin_line` to its standard input.
    HostRun run(const std::string& args, const std::string& stdin_line = "") {
        const std::string command = "printf '%s\\n' '" + stdin_line + "' | " + ESP32_HOST_PATH + " --config '" + dir +
                                    "/device.json' --outbox '" + dir + "/outbox' " + args + " 2>'" + dir +
                                    "/stderr.log'";
        HostRun result;
        FILE* out = ::popen(command.c_str(), "r");
        if (out == nullptr) return result;
        char line[1024];
        while (std::fgets(line, sizeof line, out) != nullptr) result.lines.push_back(nlohmann::json::parse(line));
        const int status = ::pclose(out);
        result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return result;
    }

    std::string stderr_log() const {
        std::ifstream in(dir + "/stderr.log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    test::FakeNode node;
    test::HttpNodeServer server{node};
    std::string dir;
};

TEST_F(Esp32HostTest, SendsReadingsAndPrintsOneLinePerConfirmation) {
    const HostRun result = run("--readings 3 --interval-ms 10 --ssn 123-45-6789");
    ASSERT_EQ(result.exit_code, 0) << stderr_log();
    ASSERT_EQ(result.lines.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& line = result.lines[i];
        EXPECT_EQ(line.at("seq"), i + 1);
        EXPECT_EQ(line.at("record_id"), i);
        EXPECT_EQ(line.at("tx"), to_hex(node.included[i].hash));
        EXPECT_TRUE(line.at("block").is_number_unsigned());
    }
    EXPECT_EQ(node.records.size(), 3u);
}

TEST_F(Esp32HostTest, ReadsTheSsnFromStdinLikeTheKeypad) {
    const HostRun result = run("--readings 1", " 123-45-6789 ");
    ASSERT_EQ(result.exit_code, 0) << stderr_log();
    EXPECT_EQ(result.lines.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(Esp32HostTest, KeepsReadingsWhenTheNodeIsDownAndSendsThemNextRun) {
    node.fail_requests = 1'000'000;
    const HostRun down = run("--readings 2 --interval-ms 10 --ssn 123-45-6789 --timeout-ms 1500");
    EXPECT_EQ(down.exit_code, 1);
    EXPECT_TRUE(down.lines.empty());
    EXPECT_NE(stderr_log().find("2 reading(s) still queued"), std::string::npos) << stderr_log();

    node.fail_requests = 0;
    const HostRun up = run("--readings 0 --ssn 123-45-6789");
    ASSERT_EQ(up.exit_code, 0) << stderr_log();
    ASSERT_EQ(up.lines.size(), 2u);
    EXPECT_EQ(up.lines[0].at("seq"), 1);
    EXPECT_EQ(up.lines[1].at("seq"), 2);
    EXPECT_EQ(node.records.size(), 2u);
}

TEST_F(Esp32HostTest, WrongSsnIsWarnedAboutAndRefused) {
    const HostRun result = run("--readings 1 --ssn 987-65-4321 --timeout-ms 5000");
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_TRUE(result.lines.empty());
    EXPECT_NE(stderr_log().find("bound to another patient"), std::string::npos) << stderr_log();
    EXPECT_TRUE(node.records.empty());
}

TEST_F(Esp32HostTest, RefusesNonLoopbackRpcHosts) {
    write_config("http://192.0.2.1:8545");  // TEST-NET-1; never contacted
    const HostRun result = run("--readings 1 --ssn 123-45-6789");
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_NE(stderr_log().find("refusing non-loopback"), std::string::npos) << stderr_log();
    EXPECT_TRUE(node.methods.empty());
}

// A private network's device: the config names the patient and the store,
// and there is no SSN to give.
class Esp32HostPrivateTest : public Esp32HostTest {
protected:
    void SetUp() override {
        Esp32HostTest::SetUp();
        patient.fill(0xab);
        const Signer signer(fixed_from_hex<32>(kKey));
        node.devices[signer.address()] = test::FakeNode::Device{patient, 0, true};
        node.private_records = true;
        node.data_keys[1] = from_hex("0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
        const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
        node.store_url = base + "/store";
        std::ofstream(dir + "/device.json") << nlohmann::json{
            {"rpc_url", base},
            {"chain_id", 1337},
            {"contract", to_hex(node.contract)},
            {"device_private_key", kKey},
            {"patient_id", to_hex(patient)},
            {"store_url", node.store_url},
            {"device_id", "test-device"}}.dump();
    }

    Bytes32 patient{};
};

TEST_F(Esp32HostPrivateTest, SealsStoresAndConfirmsWithoutAnSsn) {
    const HostRun result = run("--readings 3 --interval-ms 10");
    ASSERT_EQ(result.exit_code, 0) << stderr_log();
    ASSERT_EQ(result.lines.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(result.lines[i].at("seq"), i + 1);
        EXPECT_EQ(result.lines[i].at("record_id"), i);
        EXPECT_EQ(result.lines[i].at("tx"), to_hex(node.included[i].hash));
    }
    ASSERT_EQ(node.records.size(), 3u);
    EXPECT_EQ(node.store.size(), 3u);
    EXPECT_EQ(node.records_without_blob, 0u);
    EXPECT_NE(stderr_log().find("(private network)"), std::string::npos) << stderr_log();
}

TEST_F(Esp32HostPrivateTest, RefusesAnSsn) {
    const HostRun result = run("--readings 1 --ssn 123-45-6789");
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_NE(stderr_log().find("--ssn is for a clear network's device"), std::string::npos) << stderr_log();
    EXPECT_TRUE(node.methods.empty());
}

TEST_F(Esp32HostTest, UsageErrorsExitWithTwo) { EXPECT_EQ(run("--readings nope").exit_code, 2); }

}  // namespace
}  // namespace medchain

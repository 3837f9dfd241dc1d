#include <gtest/gtest.h>

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "file_storage.hpp"
#include "medchain/outbox.hpp"

namespace medchain::host {
namespace {

class FileStorageTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/medchain-storage-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir = pattern;
    }
    void TearDown() override {
        if (DIR* d = ::opendir(dir.c_str())) {
            while (const dirent* e = ::readdir(d)) {
                const std::string name = e->d_name;
                if (name != "." && name != "..") ::unlink((dir + "/" + name).c_str());
            }
            ::closedir(d);
        }
        ::rmdir((dir + "/nested").c_str());
        ::rmdir(dir.c_str());
    }
    std::string dir;
};

TEST_F(FileStorageTest, WriteReadReplaceRemove) {
    FileStorage storage(dir);
    EXPECT_FALSE(storage.read("next_seq").has_value());
    storage.write("next_seq", "1");
    storage.write("next_seq", "2");
    EXPECT_EQ(storage.read("next_seq"), "2");
    storage.write("r0000000000000001", std::string("\0binary\n", 8));
    EXPECT_EQ(storage.read("r0000000000000001"), std::string("\0binary\n", 8));
    EXPECT_EQ(storage.keys(), (std::vector<std::string>{"next_seq", "r0000000000000001"}));
    storage.remove("next_seq");
    storage.remove("next_seq");  // removing twice is fine
    EXPECT_EQ(storage.keys(), (std::vector<std::string>{"r0000000000000001"}));
}

TEST_F(FileStorageTest, LeavesNoTemporaryFilesAndIgnoresStrayOnes) {
    FileStorage storage(dir);
    storage.write("a", "1");
    std::ofstream(dir + "/b.tmp") << "half-written";
    EXPECT_EQ(storage.keys(), (std::vector<std::string>{"a"}));
}

TEST_F(FileStorageTest, RejectsKeysThatCouldEscapeTheDirectory) {
    FileStorage storage(dir);
    EXPECT_THROW(storage.write("../x", "1"), StorageError);
    EXPECT_THROW(storage.read(""), StorageError);
    EXPECT_THROW(storage.write("A", "1"), StorageError);
}

TEST_F(FileStorageTest, CreatesTheDirectory) {
    FileStorage storage(dir + "/nested");
    storage.write("a", "1");
    EXPECT_EQ(FileStorage(dir + "/nested").read("a"), "1");
    storage.remove("a");
}

TEST_F(FileStorageTest, OutboxSurvivesAProcessRestart) {
    {
        FileStorage storage(dir);
        Outbox outbox(storage);
        outbox.enqueue(Bytes32{}, VitalSigns{70, 98, 120, 80, 3650}, 1);
        outbox.enqueue(Bytes32{}, VitalSigns{71, 98, 120, 80, 3650}, 2);
    }
    FileStorage storage(dir);
    Outbox outbox(storage);
    ASSERT_EQ(outbox.size(), 2u);
    EXPECT_EQ(outbox.entries()[1].vitals.heart_rate, 71);
    EXPECT_EQ(outbox.next_sequence(), 3u);
}

}  // namespace
}  // namespace medchain::host

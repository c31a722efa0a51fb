// AtomicFile: the destination holds the old bytes or the new ones, never a mix, and no temporary
// file outlives the writer.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/atomic_file.h"
#include "io_test_util.h"

namespace osp::io {
namespace {

using test::ScratchDir;
using test::to_bytes;

TEST(AtomicFile, CreatesAndReplacesLeavingNoTemporaryFile) {
  ScratchDir dir;
  const auto path = dir / "f.bin";
  ASSERT_TRUE(write_file_atomically(path, to_bytes("first version")).ok());
  EXPECT_EQ(test::read_file(path), to_bytes("first version"));
  ASSERT_TRUE(write_file_atomically(path, to_bytes("v2")).ok());
  EXPECT_EQ(test::read_file(path), to_bytes("v2"));
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"f.bin"});
}

TEST(AtomicFile, AbandonedWriteLeavesTheOldFile) {
  ScratchDir dir;
  const auto path = dir / "f.bin";
  ASSERT_TRUE(write_file_atomically(path, to_bytes("old")).ok());
  {
    auto f = AtomicFile::create(path);
    ASSERT_TRUE(f.ok()) << f.error().message;
    ASSERT_TRUE(f->write(to_bytes("half of the new")).ok());
    EXPECT_EQ(f->temp_path().parent_path(), path.parent_path());  // same file system
    EXPECT_TRUE(std::filesystem::exists(f->temp_path()));
    EXPECT_EQ(test::read_file(path), to_bytes("old"));  // not visible before commit
  }
  EXPECT_EQ(test::read_file(path), to_bytes("old"));
  EXPECT_EQ(test::list_dir(dir.path()), std::vector<std::string>{"f.bin"});
}

TEST(AtomicFile, CommitTwiceAndWriteAfterCommitAreRefused) {
  ScratchDir dir;
  auto f = AtomicFile::create(dir / "f.bin");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->commit().ok());
  EXPECT_FALSE(f->commit().ok());
  auto st = f->write(to_bytes("x"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("write after commit"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "f.bin"));  // committed empty file
}

TEST(AtomicFile, MissingFolderIsNamed) {
  ScratchDir dir;
  const auto path = dir / "no" / "such" / "f.bin";
  auto st = write_file_atomically(path, to_bytes("x"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind(path.string() + ": cannot create temporary file", 0), 0u)
      << st.error().message;
  EXPECT_NE(st.error().message.find("No such file or directory"), std::string::npos);
}

TEST(AtomicFile, ModeFollowsTheUmaskLikeOpen) {
  ScratchDir dir;
  const mode_t old = ::umask(022);
  const auto st = write_file_atomically(dir / "f.bin", to_bytes("x"));
  ::umask(old);
  ASSERT_TRUE(st.ok());
  struct stat sb {};
  ASSERT_EQ(::stat((dir / "f.bin").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0644u);
}

TEST(AtomicFile, RelativePathInTheWorkingFolder) {
  ScratchDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  const auto st = write_file_atomically("rel.bin", to_bytes("abc"));
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(test::read_file(dir / "rel.bin"), to_bytes("abc"));
}

}  // namespace
}  // namespace osp::io

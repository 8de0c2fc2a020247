#pragma once
// A temporary directory for one test, removed with everything in it when the test ends.

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

#include <string>

namespace keel::test {

struct TempDir {
    TempDir() : path(Poco::TemporaryFile::tempName()) { Poco::File(path).createDirectories(); }
    ~TempDir() { Poco::File(path).remove(true); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path;
};

}  // namespace keel::test

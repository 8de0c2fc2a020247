#pragma once
// Running Keel's binaries from end-to-end tests: a finished command with its output, a background daemon,
// HTTP requests to it, and bounded polling instead of sleeps.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace keel::test {

/// The directory with the built binaries (KEEL_BIN_DIR: build/modules), e.g. binary("cli/keel").
std::string binary(const std::string& relative);

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

/// Runs a program to completion with extra environment variables, capturing stdout and stderr.
CommandResult runCommand(const std::string& program, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& environment = {});

/// A program running in the background; terminated (SIGTERM, then SIGKILL) when destroyed if still running.
class BackgroundProcess {
public:
    BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& environment = {});
    ~BackgroundProcess();
    /// Sends SIGTERM and waits at most `limit` for the exit code; -1 if it did not stop.
    int terminate(std::chrono::milliseconds limit = std::chrono::seconds(20));
    /// Sends SIGKILL (a crash: no cleanup runs) and reaps the process.
    void kill();
    bool running() const;
    /// Everything the process wrote to stdout and stderr so far (redirected to a temporary file).
    std::string output() const;

private:
    std::string log_path_;
    int pid_ = -1;
    int exit_code_ = -1;
    bool finished_ = false;
};

struct HttpResult {
    int status = 0;  ///< 0 when the connection failed
    std::string body;
};

HttpResult httpGet(const std::string& host, int port, const std::string& path);

/// A TCP port on 127.0.0.1 that nobody listens on right now.
int freePort();

/// Polls `condition` every 50 ms until true or `limit` passes; returns the last result.
bool pollUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit);

}  // namespace keel::test

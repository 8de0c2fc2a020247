#include "process.h"

#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Path.h>
#include <Poco/Pipe.h>
#include <Poco/Process.h>
#include <Poco/PipeStream.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace keel::test {

namespace {

Poco::Process::Env mergedEnvironment(const std::map<std::string, std::string>& extra) {
    Poco::Process::Env env;
    for (const auto& [k, v] : extra) env[k] = v;
    return env;
}

}  // namespace

std::string binary(const std::string& relative) {
    const char* dir = std::getenv("KEEL_BIN_DIR");
    if (dir == nullptr) throw std::runtime_error("KEEL_BIN_DIR is not set (run the tests through ctest)");
    return std::string(dir) + "/" + relative;
}

CommandResult runCommand(const std::string& program, const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& environment) {
    Poco::Pipe out_pipe;
    Poco::Pipe err_pipe;
    Poco::ProcessHandle handle =
        Poco::Process::launch(program, args, "", nullptr, &out_pipe, &err_pipe, mergedEnvironment(environment));
    CommandResult result;
    // Read stderr on a thread so a full pipe on either stream cannot block the child.
    std::thread err_reader([&] {
        Poco::PipeInputStream err(err_pipe);
        Poco::StreamCopier::copyToString(err, result.err);
    });
    Poco::PipeInputStream out(out_pipe);
    Poco::StreamCopier::copyToString(out, result.out);
    err_reader.join();
    result.exit_code = handle.wait();
    return result;
}

BackgroundProcess::BackgroundProcess(const std::string& program, const std::vector<std::string>& args,
                                     const std::map<std::string, std::string>& environment) {
    log_path_ = Poco::TemporaryFile::tempName() + ".log";
    // The child's stdout and stderr go to a file: nobody has to drain a pipe while the test polls.
    const int fd = ::open(log_path_.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + log_path_);
    std::vector<std::string> argv_storage{program};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        for (const auto& [k, v] : environment) ::setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> argv;
        for (auto& a : argv_storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        std::_Exit(127);
    }
    ::close(fd);
    if (pid < 0) throw std::runtime_error("fork failed");
    pid_ = pid;
}

BackgroundProcess::~BackgroundProcess() {
    if (!finished_) {
        if (terminate(std::chrono::seconds(10)) < 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Poco::File log(log_path_);
    if (log.exists()) log.remove();
}

bool BackgroundProcess::running() const {
    if (finished_) return false;
    return ::waitpid(pid_, nullptr, WNOHANG) == 0;
}

void BackgroundProcess::kill() {
    if (finished_) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    finished_ = true;
    exit_code_ = 128 + SIGKILL;
}

int BackgroundProcess::terminate(std::chrono::milliseconds limit) {
    if (finished_) return exit_code_;
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool stopped = pollUntil([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
    if (!stopped) return -1;
    finished_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
}

std::string BackgroundProcess::output() const {
    Poco::FileInputStream in(log_path_);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    return text;
}

HttpResult httpGet(const std::string& host, int port, const std::string& path) {
    HttpResult result;
    try {
        Poco::Net::HTTPClientSession session(host, static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(10, 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& body = session.receiveResponse(response);
        Poco::StreamCopier::copyToString(body, result.body);
        result.status = static_cast<int>(response.getStatus());
    } catch (const Poco::Exception&) {
        result.status = 0;  // not listening yet, or gone
    }
    return result;
}

int freePort() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    return socket.address().port();
}

bool pollUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace keel::test

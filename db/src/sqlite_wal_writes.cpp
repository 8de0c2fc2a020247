// A SQLite VFS over the default one ("unix") that writes a commit's write-ahead log frames with one write call.
//
// SQLite writes each frame of the log as two write calls, its 24-byte header and then the page, so a commit that
// changes 30 pages costs 60 system calls, each dear on a virtual machine. For log files only, this VFS collects the
// writes that follow on from each other and hands them to the file as one:
// - right after the page of a commit frame (a frame header whose "database size after commit" is not zero), still
//   inside SQLite's write call, so an error is reported where it was before and the commit fails as it would have;
//   SQLite publishes a commit's frames to other connections (the wal-index header) only after that;
// - before the log is read, synced, truncated, sized or closed, before a write elsewhere in it, and when 127 KB are
//   collected (frames of a large transaction that spill before its commit, which no other connection reads).
// So the file receives the same writes in the same order, merged, and holds every frame of a commit before COMMIT
// returns. Every other file goes straight to the default VFS, with its own methods.
// It also counts a commit's frames for the committing thread (takeCommittedLogFrames): the checkpoint thread copies a
// large commit back at once and waits for more commits after a small one (WalCheckpointer).
#include "sqlite_wal_writes.h"
#include "keel/db/connection.h"

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace keel::db {
namespace {

// Bytes collected before they are written anyway. The unix VFS writes at most 128 KB - 1 in one call (it masks the
// size with 0x1ffff, and a larger write fails as "disk full"), so a write stays below that.
constexpr int kMaxPending = 127 * 1024;

struct File {
    sqlite3_file base;   // pMethods: ours
    sqlite3_file* real;  // the default VFS's file, allocated right after this struct
    // The log's contiguous writes not yet handed to `real`: pending_size bytes meant for offset pending_offset.
    char* pending;
    int pending_size;
    sqlite3_int64 pending_offset;
    bool commit_page_next;  ///< the last write was a commit frame's header: its page comes next
    std::uint64_t frames_since_commit;  ///< frame headers written since the last commit frame's
};

sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs keel_vfs;
sqlite3_io_methods methods;

std::atomic<std::uint64_t> requested_writes{0};  // SQLite's write calls on log files (headers and pages)
std::atomic<std::uint64_t> issued_writes{0};     // the writes handed to the default VFS for them
std::atomic<std::uint64_t> statement_journals{0};  // statement journal files opened
// The frames of the last commit this thread wrote to a log: SQLite writes a commit's frames on the committing thread,
// inside its COMMIT, so the thread can read them right after (WalCheckpointer::wake).
thread_local std::uint64_t committed_frames = 0;

File* of(sqlite3_file* file) {
    return reinterpret_cast<File*>(file);
}

int flush(File* f) {
    if (f->pending_size == 0) return SQLITE_OK;
    const int size = f->pending_size;
    f->pending_size = 0;
    issued_writes.fetch_add(1, std::memory_order_relaxed);
    return f->real->pMethods->xWrite(f->real, f->pending, size, f->pending_offset);
}

int xClose(sqlite3_file* file) {
    File* f = of(file);
    int rc = flush(f);
    const int closed = f->real->pMethods != nullptr ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    std::free(f->pending);
    f->pending = nullptr;
    return rc != SQLITE_OK ? rc : closed;
}

int xRead(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
    File* f = of(file);
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xRead(f->real, buffer, amount, offset);
}

bool isFrameHeader(int amount, sqlite3_int64 offset) {
    return amount == 24 && offset >= 32;  // the log's own header is the first 32 bytes
}

// A frame header's bytes 4-7: the database's size in pages after the commit it ends, 0 in other frames.
bool endsCommit(const void* header) {
    const auto* bytes = static_cast<const unsigned char*>(header);
    return (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
}

int xWrite(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
    File* f = of(file);
    requested_writes.fetch_add(1, std::memory_order_relaxed);
    const bool commit_page = f->commit_page_next;
    f->commit_page_next = false;
    if (isFrameHeader(amount, offset)) {
        ++f->frames_since_commit;
        if (endsCommit(buffer)) {
            f->commit_page_next = true;
            committed_frames = f->frames_since_commit;
            f->frames_since_commit = 0;
        }
    }
    const bool follows = f->pending_size > 0 && offset == f->pending_offset + f->pending_size;
    if (!follows || f->pending_size + amount > kMaxPending) {
        if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    }
    if (amount > kMaxPending) return f->real->pMethods->xWrite(f->real, buffer, amount, offset);
    if (f->pending == nullptr) {  // once per log file
        char* buffer_memory = static_cast<char*>(std::malloc(static_cast<std::size_t>(kMaxPending)));
        if (buffer_memory == nullptr) {
            if (const int rc = flush(f); rc != SQLITE_OK) return rc;
            return f->real->pMethods->xWrite(f->real, buffer, amount, offset);
        }
        f->pending = buffer_memory;
    }
    if (f->pending_size == 0) f->pending_offset = offset;
    std::memcpy(f->pending + f->pending_size, buffer, static_cast<std::size_t>(amount));
    f->pending_size += amount;
    return commit_page ? flush(f) : SQLITE_OK;
}

int xTruncate(sqlite3_file* file, sqlite3_int64 size) {
    File* f = of(file);
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xTruncate(f->real, size);
}

int xSync(sqlite3_file* file, int flags) {
    File* f = of(file);
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

int xFileSize(sqlite3_file* file, sqlite3_int64* size) {
    File* f = of(file);
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileSize(f->real, size);
}

int xLock(sqlite3_file* file, int lock) {
    return of(file)->real->pMethods->xLock(of(file)->real, lock);
}
int xUnlock(sqlite3_file* file, int lock) {
    return of(file)->real->pMethods->xUnlock(of(file)->real, lock);
}
int xCheckReservedLock(sqlite3_file* file, int* out) {
    return of(file)->real->pMethods->xCheckReservedLock(of(file)->real, out);
}

int xFileControl(sqlite3_file* file, int op, void* arg) {
    File* f = of(file);
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

int xSectorSize(sqlite3_file* file) {
    return of(file)->real->pMethods->xSectorSize(of(file)->real);
}
int xDeviceCharacteristics(sqlite3_file* file) {
    return of(file)->real->pMethods->xDeviceCharacteristics(of(file)->real);
}

int xShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
    return of(file)->real->pMethods->xShmMap(of(file)->real, region, size, extend, out);
}
int xShmLock(sqlite3_file* file, int offset, int n, int flags) {
    return of(file)->real->pMethods->xShmLock(of(file)->real, offset, n, flags);
}
void xShmBarrier(sqlite3_file* file) {
    of(file)->real->pMethods->xShmBarrier(of(file)->real);
}
int xShmUnmap(sqlite3_file* file, int delete_flag) {
    return of(file)->real->pMethods->xShmUnmap(of(file)->real, delete_flag);
}
int xFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
    return of(file)->real->pMethods->xFetch(of(file)->real, offset, amount, out);
}
int xUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
    return of(file)->real->pMethods->xUnfetch(of(file)->real, offset, page);
}

int xOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    // Every file but a log is the default VFS's own, in the space SQLite allocated (szOsFile covers it).
    if ((flags & SQLITE_OPEN_SUBJOURNAL) != 0) statement_journals.fetch_add(1, std::memory_order_relaxed);
    if ((flags & SQLITE_OPEN_WAL) == 0) return real_vfs->xOpen(real_vfs, name, file, flags, out_flags);
    File* f = of(file);
    f->real = reinterpret_cast<sqlite3_file*>(f + 1);
    f->pending = nullptr;
    f->pending_size = 0;
    f->pending_offset = 0;
    f->commit_page_next = false;
    f->frames_since_commit = 0;
    f->base.pMethods = nullptr;
    const int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    // The default VFS sets pMethods only on a file it opened; SQLite calls xClose exactly when pMethods is set.
    if (f->real->pMethods != nullptr) f->base.pMethods = &methods;
    return rc;
}

// Everything else about files by name, time and randomness is the default VFS's.
int xDelete(sqlite3_vfs*, const char* name, int sync_dir) {
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}
int xAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
int xFullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
    return real_vfs->xFullPathname(real_vfs, name, size, out);
}
void* xDlOpen(sqlite3_vfs*, const char* name) {
    return real_vfs->xDlOpen(real_vfs, name);
}
void xDlError(sqlite3_vfs*, int size, char* out) {
    real_vfs->xDlError(real_vfs, size, out);
}
void (*xDlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
    return real_vfs->xDlSym(real_vfs, handle, symbol);
}
void xDlClose(sqlite3_vfs*, void* handle) {
    real_vfs->xDlClose(real_vfs, handle);
}
int xRandomness(sqlite3_vfs*, int size, char* out) {
    return real_vfs->xRandomness(real_vfs, size, out);
}
int xSleep(sqlite3_vfs*, int micros) {
    return real_vfs->xSleep(real_vfs, micros);
}
int xCurrentTime(sqlite3_vfs*, double* out) {
    return real_vfs->xCurrentTime(real_vfs, out);
}
int xGetLastError(sqlite3_vfs*, int size, char* out) {
    return real_vfs->xGetLastError(real_vfs, size, out);
}
int xCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}
int xSetSystemCall(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr call) {
    return real_vfs->xSetSystemCall(real_vfs, name, call);
}
sqlite3_syscall_ptr xGetSystemCall(sqlite3_vfs*, const char* name) {
    return real_vfs->xGetSystemCall(real_vfs, name);
}
const char* xNextSystemCall(sqlite3_vfs*, const char* name) {
    return real_vfs->xNextSystemCall(real_vfs, name);
}

}  // namespace

bool installSqliteLogWriter() {
    real_vfs = sqlite3_vfs_find(nullptr);
    if (real_vfs == nullptr || real_vfs->iVersion < 3) return false;
    methods = sqlite3_io_methods{3,
                                 xClose,
                                 xRead,
                                 xWrite,
                                 xTruncate,
                                 xSync,
                                 xFileSize,
                                 xLock,
                                 xUnlock,
                                 xCheckReservedLock,
                                 xFileControl,
                                 xSectorSize,
                                 xDeviceCharacteristics,
                                 xShmMap,
                                 xShmLock,
                                 xShmBarrier,
                                 xShmUnmap,
                                 xFetch,
                                 xUnfetch};
    keel_vfs = sqlite3_vfs{3,
                           static_cast<int>(sizeof(File)) + real_vfs->szOsFile,
                           real_vfs->mxPathname,
                           nullptr,
                           kSqliteVfsName,
                           nullptr,
                           xOpen,
                           xDelete,
                           xAccess,
                           xFullPathname,
                           xDlOpen,
                           xDlError,
                           xDlSym,
                           xDlClose,
                           xRandomness,
                           xSleep,
                           xCurrentTime,
                           xGetLastError,
                           xCurrentTimeInt64,
                           xSetSystemCall,
                           xGetSystemCall,
                           xNextSystemCall};
    return sqlite3_vfs_register(&keel_vfs, 1) == SQLITE_OK;
}

SqliteLogWrites sqliteLogWrites() {
    return SqliteLogWrites{requested_writes.load(std::memory_order_relaxed),
                           issued_writes.load(std::memory_order_relaxed)};
}

std::uint64_t sqliteStatementJournalFiles() {
    return statement_journals.load(std::memory_order_relaxed);
}

std::uint64_t takeCommittedLogFrames() noexcept {
    return std::exchange(committed_frames, 0);
}

}  // namespace keel::db

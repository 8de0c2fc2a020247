#include "keel/server/server.h"

int main(int argc, char** argv) {
    keel::server::KeelDaemon daemon;
    return daemon.run(argc, argv);
}

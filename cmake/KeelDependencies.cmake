# Every dependency comes from a Debian 12 package (packaging/install-deps.sh); nothing is vendored.
include_guard(GLOBAL)

find_package(Poco 1.11 REQUIRED COMPONENTS Foundation Util Net NetSSL Crypto JSON XML Data DataODBC JWT)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem unit_test_framework)
find_package(ODBC REQUIRED)
# The library sqlite3odbc loads: Keel configures it before the first connection (db/src/connection.cpp).
find_package(SQLite3 REQUIRED)
find_package(XercesC REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)

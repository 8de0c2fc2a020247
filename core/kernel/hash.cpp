#include "keel/kernel/hash.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

namespace keel {

std::string sha256Hex(std::string_view text) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(text.data(), static_cast<unsigned>(text.size()));
    return Poco::DigestEngine::digestToHex(engine.digest());
}

}  // namespace keel

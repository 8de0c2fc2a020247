// The trading-partner profile of keel::edi (keel/edi/partner_profile.h, shared with Keel's host), under the plugin's
// namespace.
#pragma once

#include "keel/edi/partner_profile.h"

namespace keel::edix12 {

using edi::loadProfiles;
using edi::locationOf;
using edi::PartnerProfile;
using edi::PartnerRole;
using edi::ProfileError;
using edi::warehouseIdOf;

}  // namespace keel::edix12

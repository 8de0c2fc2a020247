# Writes NAME.keel-plugin.json next to a plugin library (called after the link by keel_add_plugin):
#   { "name", "version", "abi_major", "abi_minor", "capabilities": [...], "library": file name, "sha256" }
# The host refuses a library whose SHA-256 differs from its manifest. To sign a plugin, sign the manifest:
#   openssl dgst -sha256 -sign key.pem -out NAME.keel-plugin.json.sig NAME.keel-plugin.json
foreach(required LIBRARY NAME VERSION ABI_MAJOR ABI_MINOR CAPABILITIES)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "KeelPluginManifest.cmake: -D${required}=... is required")
  endif()
endforeach()
file(SHA256 "${LIBRARY}" digest)
get_filename_component(directory "${LIBRARY}" DIRECTORY)
get_filename_component(file "${LIBRARY}" NAME)
string(REPLACE "," "\", \"" capability_list "${CAPABILITIES}")
file(WRITE "${directory}/${NAME}.keel-plugin.json"
"{
  \"name\": \"${NAME}\",
  \"version\": \"${VERSION}\",
  \"abi_major\": ${ABI_MAJOR},
  \"abi_minor\": ${ABI_MINOR},
  \"capabilities\": [\"${capability_list}\"],
  \"library\": \"${file}\",
  \"sha256\": \"${digest}\"
}
")

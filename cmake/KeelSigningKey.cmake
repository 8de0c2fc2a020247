# The key that signs the manifests of installed plugins (keel_install_plugin), so that the plugin packages load on
# a host that allows only signed plugins (plugins.allow_unsigned = false, the packaged default).
#
# A release build passes its key: -DKEEL_PLUGIN_SIGNING_KEY=/path/to/release-key.pem (PEM, RSA or EC). Otherwise
# each build tree makes a key of its own (P-256, build/packaging/plugin-signing-key.pem), so packages built from
# one tree trust each other and nothing else. The public half is installed with the keel package to
# /usr/share/keel/plugin-keys/, one of the packaged plugins.trusted_keys directories.
find_program(KEEL_OPENSSL_EXECUTABLE openssl REQUIRED)
set(_keel_key_dir "${CMAKE_BINARY_DIR}/packaging")
if(NOT KEEL_PLUGIN_SIGNING_KEY)
  set(_keel_key "${_keel_key_dir}/plugin-signing-key.pem")
  if(NOT EXISTS "${_keel_key}")
    file(MAKE_DIRECTORY "${_keel_key_dir}")
    execute_process(COMMAND "${KEEL_OPENSSL_EXECUTABLE}" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256
                            -out "${_keel_key}" RESULT_VARIABLE _keel_rc OUTPUT_QUIET ERROR_VARIABLE _keel_err)
    if(NOT _keel_rc EQUAL 0)
      message(FATAL_ERROR "making the build tree's plugin signing key ${_keel_key} failed: ${_keel_err}")
    endif()
    file(CHMOD "${_keel_key}" PERMISSIONS OWNER_READ OWNER_WRITE)
  endif()
  set(KEEL_PLUGIN_SIGNING_KEY "${_keel_key}" CACHE FILEPATH "PEM private key signing the manifests of installed plugins")
endif()
set(KEEL_PLUGIN_PUBLIC_KEY "${_keel_key_dir}/keel-packages.pem")
execute_process(COMMAND "${KEEL_OPENSSL_EXECUTABLE}" pkey -in "${KEEL_PLUGIN_SIGNING_KEY}" -pubout
                        -out "${KEEL_PLUGIN_PUBLIC_KEY}" RESULT_VARIABLE _keel_rc ERROR_VARIABLE _keel_err)
if(NOT _keel_rc EQUAL 0)
  message(FATAL_ERROR "KEEL_PLUGIN_SIGNING_KEY=${KEEL_PLUGIN_SIGNING_KEY}: not a PEM private key: ${_keel_err}")
endif()

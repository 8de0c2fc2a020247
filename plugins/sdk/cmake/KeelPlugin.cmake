# keel_add_plugin(): builds a Keel plugin library the way the host expects it. Part of the installed SDK
# (find_package(KeelSDK)) and used by the in-tree plugins alike.
#
#   keel_add_plugin(TARGET
#     NAME tax-table                    # the plugin's name (manifest, plugin.NAME in instance configuration)
#     VERSION 1.0.0                     # the plugin's own version
#     CAPABILITIES tax [subscriber ...] # marketplace fulfillment tax edi transport subscriber
#     SOURCES a.cpp b.cpp
#     [ABI_MAJOR n] [ABI_MINOR n]       # what the manifest declares; defaults to the SDK's (tests override them)
#     [OUTPUT_DIRECTORY dir])           # default: KEEL_PLUGIN_OUTPUT_DIRECTORY, else the current binary dir
#
# It makes a MODULE library with hidden visibility, -Wl,--no-undefined (a missing symbol fails the link, not the
# load) and a version script that exports only the entry symbol, then writes NAME.keel-plugin.json (the
# manifest: name, version, ABI, capabilities, library file and its SHA-256) next to the library after each link.
include_guard(GLOBAL)

set(_KEEL_PLUGIN_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "where KeelPlugin.cmake lives")

function(keel_add_plugin target)
  cmake_parse_arguments(ARG "" "NAME;VERSION;ABI_MAJOR;ABI_MINOR;OUTPUT_DIRECTORY" "CAPABILITIES;SOURCES" ${ARGN})
  foreach(required NAME VERSION CAPABILITIES SOURCES)
    if(NOT ARG_${required})
      message(FATAL_ERROR "keel_add_plugin(${target}): ${required} is required")
    endif()
  endforeach()
  if(NOT ARG_NAME MATCHES "^[a-z0-9][a-z0-9-]*$")
    message(FATAL_ERROR "keel_add_plugin(${target}): NAME '${ARG_NAME}' must be lower-case letters, digits and '-'")
  endif()
  set(known marketplace fulfillment tax edi transport subscriber)
  foreach(capability IN LISTS ARG_CAPABILITIES)
    if(NOT capability IN_LIST known)
      message(FATAL_ERROR "keel_add_plugin(${target}): unknown capability '${capability}' (one of: ${known})")
    endif()
  endforeach()
  if(NOT DEFINED ARG_ABI_MAJOR)
    set(ARG_ABI_MAJOR "${KEEL_PLUGIN_ABI_MAJOR}")
  endif()
  if(NOT DEFINED ARG_ABI_MINOR)
    set(ARG_ABI_MINOR "${KEEL_PLUGIN_ABI_MINOR}")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    if(KEEL_PLUGIN_OUTPUT_DIRECTORY)
      set(ARG_OUTPUT_DIRECTORY "${KEEL_PLUGIN_OUTPUT_DIRECTORY}")
    else()
      set(ARG_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
    endif()
  endif()

  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE KeelSDK::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "keel-plugin-${ARG_NAME}"
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    LINK_DEPENDS "${_KEEL_PLUGIN_CMAKE_DIR}/keel-plugin.map"
    KEEL_PLUGIN_NAME "${ARG_NAME}"
    KEEL_PLUGIN_VERSION "${ARG_VERSION}"
    KEEL_PLUGIN_ABI_MAJOR "${ARG_ABI_MAJOR}"
    KEEL_PLUGIN_ABI_MINOR "${ARG_ABI_MINOR}"
    KEEL_PLUGIN_CAPABILITIES "${ARG_CAPABILITIES}")
  target_link_options(${target} PRIVATE "LINKER:--no-undefined"
                      "LINKER:--version-script=${_KEEL_PLUGIN_CMAKE_DIR}/keel-plugin.map")
  string(REPLACE ";" "," capabilities "${ARG_CAPABILITIES}")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND "${CMAKE_COMMAND}" "-DLIBRARY=$<TARGET_FILE:${target}>" "-DNAME=${ARG_NAME}" "-DVERSION=${ARG_VERSION}"
            "-DABI_MAJOR=${ARG_ABI_MAJOR}" "-DABI_MINOR=${ARG_ABI_MINOR}" "-DCAPABILITIES=${capabilities}"
            -P "${_KEEL_PLUGIN_CMAKE_DIR}/KeelPluginManifest.cmake"
    COMMENT "Writing the manifest of Keel plugin ${ARG_NAME}"
    VERBATIM)
endfunction()

# A PEM private key (RSA or EC) that signs the manifests of installed plugins (NAME.keel-plugin.json.sig, which
# the host verifies against plugins.trusted_keys). Empty: plugins are installed unsigned.
set(KEEL_PLUGIN_SIGNING_KEY "" CACHE FILEPATH "PEM private key signing the manifests of installed plugins")

# keel_install_plugin(TARGET [DESTINATION dir] [COMPONENT name]): installs a plugin library made by
# keel_add_plugin and its manifest, by default to lib/keel/plugins with COMPONENT plugin-NAME (one Debian package
# per plugin). The library is copied byte for byte (install(FILES), not install(TARGETS)) because an RPATH rewrite
# would change its SHA-256 and the host would refuse it against its manifest. A stripping install
# (`cmake --install --strip`, CPack with CPACK_STRIP_FILES) strips the installed copy and writes its manifest
# again; with KEEL_PLUGIN_SIGNING_KEY set, the installed manifest is then signed.
function(keel_install_plugin target)
  cmake_parse_arguments(ARG "" "DESTINATION;COMPONENT" "" ${ARGN})
  get_target_property(name ${target} KEEL_PLUGIN_NAME)
  if(NOT name)
    message(FATAL_ERROR "keel_install_plugin(${target}): not a target made by keel_add_plugin()")
  endif()
  if(NOT ARG_DESTINATION)
    set(ARG_DESTINATION "lib/keel/plugins")
  endif()
  if(NOT ARG_COMPONENT)
    set(ARG_COMPONENT "plugin-${name}")
  endif()
  install(FILES "$<TARGET_FILE:${target}>" "$<TARGET_FILE_DIR:${target}>/${name}.keel-plugin.json"
          DESTINATION "${ARG_DESTINATION}" COMPONENT "${ARG_COMPONENT}"
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

  get_target_property(version ${target} KEEL_PLUGIN_VERSION)
  get_target_property(abi_major ${target} KEEL_PLUGIN_ABI_MAJOR)
  get_target_property(abi_minor ${target} KEEL_PLUGIN_ABI_MINOR)
  get_target_property(capabilities ${target} KEEL_PLUGIN_CAPABILITIES)
  string(REPLACE ";" "," capabilities "${capabilities}")
  if(IS_ABSOLUTE "${ARG_DESTINATION}")
    set(directory "\$ENV{DESTDIR}${ARG_DESTINATION}")
  else()
    set(directory "\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${ARG_DESTINATION}")
  endif()
  find_program(KEEL_OPENSSL_EXECUTABLE openssl)
  set(strip "${CMAKE_STRIP}")
  if(NOT strip)
    set(strip strip)
  endif()
  install(CODE "
    set(_keel_library \"${directory}/$<TARGET_FILE_NAME:${target}>\")
    set(_keel_manifest \"${directory}/${name}.keel-plugin.json\")
    if(CMAKE_INSTALL_DO_STRIP)
      execute_process(COMMAND \"${strip}\" --strip-unneeded --remove-section=.comment --remove-section=.note
                              \"\${_keel_library}\" RESULT_VARIABLE _keel_rc)
      if(NOT _keel_rc EQUAL 0)
        message(FATAL_ERROR \"keel_install_plugin: stripping \${_keel_library} failed\")
      endif()
      execute_process(COMMAND \"${CMAKE_COMMAND}\" \"-DLIBRARY=\${_keel_library}\" -DNAME=${name} -DVERSION=${version}
                              -DABI_MAJOR=${abi_major} -DABI_MINOR=${abi_minor} -DCAPABILITIES=${capabilities}
                              -P \"${_KEEL_PLUGIN_CMAKE_DIR}/KeelPluginManifest.cmake\" RESULT_VARIABLE _keel_rc)
      if(NOT _keel_rc EQUAL 0)
        message(FATAL_ERROR \"keel_install_plugin: writing the manifest of \${_keel_library} failed\")
      endif()
    endif()
    if(NOT \"${KEEL_PLUGIN_SIGNING_KEY}\" STREQUAL \"\")
      execute_process(COMMAND \"${KEEL_OPENSSL_EXECUTABLE}\" dgst -sha256 -sign \"${KEEL_PLUGIN_SIGNING_KEY}\"
                              -out \"\${_keel_manifest}.sig\" \"\${_keel_manifest}\" RESULT_VARIABLE _keel_rc)
      if(NOT _keel_rc EQUAL 0)
        message(FATAL_ERROR \"keel_install_plugin: signing \${_keel_manifest} with ${KEEL_PLUGIN_SIGNING_KEY} failed\")
      endif()
      file(CHMOD \"\${_keel_manifest}.sig\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    endif()
  " COMPONENT "${ARG_COMPONENT}")
endfunction()

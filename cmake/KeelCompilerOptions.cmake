# Warnings and build defaults shared by every Keel target.
include_guard(GLOBAL)

add_library(keel_warnings INTERFACE)
add_library(keel::warnings ALIAS keel_warnings)
target_compile_options(keel_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                               -Wold-style-cast -Wcast-align -Woverloaded-virtual)
if(KEEL_WERROR)
  target_compile_options(keel_warnings INTERFACE -Werror)
endif()

find_program(KEEL_CCACHE ccache)
if(KEEL_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${KEEL_CCACHE}" CACHE STRING "Compiler launcher")
endif()

# keel_add_library(NAME ALIAS keel::x SOURCES ... [PUBLIC_LINKS ...] [PRIVATE_LINKS ...])
# One static library per component with its public headers under include/.
function(keel_add_library name)
  cmake_parse_arguments(ARG "" "ALIAS" "SOURCES;PUBLIC_LINKS;PRIVATE_LINKS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  add_library(${ARG_ALIAS} ALIAS ${name})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_LINKS} PRIVATE keel::warnings ${ARG_PRIVATE_LINKS})
endfunction()

# One criterion binary per module, registered through this one helper.
#   hearth_add_test(NAME test_keys_token SOURCES a.c b.c LIBS hearth_keys)
# Tests find the built programs through HEARTH_BIN_DIR and the source tree
# through HEARTH_SOURCE_DIR (for fixtures).
pkg_check_modules(CRITERION REQUIRED IMPORTED_TARGET criterion)

function(hearth_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CRITERION)
  target_compile_definitions(${T_NAME} PRIVATE
    HEARTH_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
    HEARTH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  # --jobs 1: tests that start processes and bind ports stay bounded.
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} --jobs 1)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT})
endfunction()

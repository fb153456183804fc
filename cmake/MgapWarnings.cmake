# Strict warnings for mgap's own targets. Third-party headers come in as SYSTEM includes through
# their imported targets, so their warnings stay out of the way.
function(mgap_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wpedantic -Wnon-virtual-dtor)
  if(MGAP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Adds one doctest executable and registers it with CTest under the same name.
# Usage: mgap_add_test(NAME name SOURCES a.cpp b.cpp LIBRARIES lib... [LABELS label...])
function(mgap_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBRARIES} doctest::doctest mgap_test_main)
  target_compile_definitions(${ARG_NAME} PRIVATE
    MGAP_SOURCE_DIR="${MGAP_SOURCE_DIR}" MGAP_DATA_DIR="${MGAP_DATA_DIR}"
    MGAP_BINARY_DIR="${CMAKE_BINARY_DIR}")
  mgap_set_warnings(${ARG_NAME})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES
    ENVIRONMENT "MGAP_BIN_DIR=${CMAKE_BINARY_DIR}/bin" LABELS "${ARG_LABELS}")
endfunction()

# kan_add_unittest(NAME SOURCES src... [LIBS lib...])
# Builds a GoogleTest executable into ${KAN_UNIT_TEST_DIR}; lit's Unit suite
# (test/Unit/lit.cfg.py) discovers every executable there whose name ends in
# "Tests", so `check-kan` runs it together with the FileCheck tests.
include_guard(GLOBAL)
find_package(GTest REQUIRED)
if(NOT KAN_UNIT_TEST_DIR)
  set(KAN_UNIT_TEST_DIR ${CMAKE_BINARY_DIR}/test/Unit)
endif()
set_property(GLOBAL APPEND PROPERTY KAN_UNIT_TESTS "")
function(kan_add_unittest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT name MATCHES "Tests$")
    message(FATAL_ERROR "unit test executable ${name} must end in 'Tests'")
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  set_target_properties(${name} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${KAN_UNIT_TEST_DIR})
  set_property(GLOBAL APPEND PROPERTY KAN_UNIT_TESTS ${name})
endfunction()

# Every dependency comes from a Debian package that scripts/setup.sh installs.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(doctest REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# Debian ships CMake files for both the C and the C++ NLopt library under the same package name,
# so the C++ one is located directly.
find_library(MGAP_NLOPT_CXX_LIBRARY NAMES nlopt_cxx REQUIRED)
find_path(MGAP_NLOPT_INCLUDE_DIR NAMES nlopt.hpp REQUIRED)
add_library(mgap_nlopt INTERFACE)
target_link_libraries(mgap_nlopt INTERFACE ${MGAP_NLOPT_CXX_LIBRARY})
target_include_directories(mgap_nlopt SYSTEM INTERFACE ${MGAP_NLOPT_INCLUDE_DIR})

# GLPK has no CMake or pkg-config files in Debian 12.
find_library(MGAP_GLPK_LIBRARY NAMES glpk REQUIRED)
find_path(MGAP_GLPK_INCLUDE_DIR NAMES glpk.h REQUIRED)
add_library(mgap_glpk INTERFACE)
target_link_libraries(mgap_glpk INTERFACE ${MGAP_GLPK_LIBRARY})
target_include_directories(mgap_glpk SYSTEM INTERFACE ${MGAP_GLPK_INCLUDE_DIR})

if(MGAP_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# One object file holds doctest's main so every test executable links it instead of compiling it.
add_library(mgap_test_main STATIC "${CMAKE_CURRENT_LIST_DIR}/doctest_main.cpp")
target_link_libraries(mgap_test_main PUBLIC doctest::doctest)

# The runtime as an emitted NM Quad folder's Makefile finds it under
# KANRT_PREFIX (lib/Target/NMQuad/Report.cpp):
#   <includedir>/kanrt/*.h, <includedir>/kanrt/nmc/*.h
#   <libdir>/libkanrt.a, <libdir>/libkanrt_nmc_emu.a
#   <datadir>/kanrt/nmc/nmc-kan.lds, <datadir>/kanrt/nmc/src/*.c (core side)
#   <datadir>/kanrt/nmc/programs (launcher and probe sources)
#   <datadir>/kanrt/src (the kanrt sources compiled into the core program)
# runtime/ and runtime/nmc/ install the rest; the kanrt sources are installed
# here. The build tree is staged in the same layout (symbolic links into the
# sources and to the built libraries), so that a kan-translate run from
# <build>/bin finds the runtime under <build> exactly as an installed one
# finds it under its prefix.
include(GNUInstallDirs)

set(KAN_RT_DIR ${PROJECT_SOURCE_DIR}/runtime)
install(DIRECTORY ${KAN_RT_DIR}/src/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/kanrt/src
  FILES_MATCHING PATTERN "*.c" PATTERN "*.h" PATTERN "*.inc")

# Absolute install directories (configured by hand) have no build-tree twin.
foreach(d INCLUDEDIR LIBDIR DATADIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    message(STATUS "CMAKE_INSTALL_${d} is absolute: the build tree does not "
      "stage the runtime; emitted NM Quad Makefiles need KANRT_* variables")
    return()
  endif()
endforeach()

set(stage ${PROJECT_BINARY_DIR})
file(GLOB kan_rt_headers CONFIGURE_DEPENDS ${KAN_RT_DIR}/include/kanrt/*.h)
file(GLOB kan_nmc_headers CONFIGURE_DEPENDS ${KAN_RT_DIR}/nmc/include/*.h
  ${KAN_RT_DIR}/nmc/*.h)
file(GLOB kan_nmc_core_sources CONFIGURE_DEPENDS ${KAN_RT_DIR}/nmc/*.c)
list(FILTER kan_nmc_core_sources EXCLUDE REGEX "/kan_nmc_emu[^/]*\\.c$")
function(kan_stage_links dir)
  file(MAKE_DIRECTORY ${stage}/${dir})
  foreach(f ${ARGN})
    get_filename_component(name ${f} NAME)
    file(CREATE_LINK ${f} ${stage}/${dir}/${name} SYMBOLIC)
  endforeach()
endfunction()
kan_stage_links(${CMAKE_INSTALL_INCLUDEDIR}/kanrt ${kan_rt_headers})
kan_stage_links(${CMAKE_INSTALL_INCLUDEDIR}/kanrt/nmc ${kan_nmc_headers})
kan_stage_links(${CMAKE_INSTALL_DATADIR}/kanrt/nmc ${KAN_RT_DIR}/nmc/nmc-kan.lds
  ${KAN_RT_DIR}/nmc/check ${KAN_RT_DIR}/nmc/programs)
kan_stage_links(${CMAKE_INSTALL_DATADIR}/kanrt/nmc/src ${kan_nmc_core_sources})
kan_stage_links(${CMAKE_INSTALL_DATADIR}/kanrt ${KAN_RT_DIR}/src)

# The libraries exist only once built.
add_custom_target(kanrt-stage ALL
  COMMAND ${CMAKE_COMMAND} -E make_directory ${stage}/${CMAKE_INSTALL_LIBDIR}
  COMMAND ${CMAKE_COMMAND} -E create_symlink $<TARGET_FILE:kanrt>
          ${stage}/${CMAKE_INSTALL_LIBDIR}/libkanrt.a
  COMMAND ${CMAKE_COMMAND} -E create_symlink $<TARGET_FILE:kanrt_nmc_emu>
          ${stage}/${CMAKE_INSTALL_LIBDIR}/libkanrt_nmc_emu.a
  COMMAND ${CMAKE_COMMAND} -E create_symlink $<TARGET_FILE:kanrt_nmc_sim>
          ${stage}/${CMAKE_INSTALL_LIBDIR}/libkanrt_nmc_sim.a
  DEPENDS kanrt kanrt_nmc_emu kanrt_nmc_sim
  COMMENT "Staging the runtime in the install layout under ${stage}"
  VERBATIM)

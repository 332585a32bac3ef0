# ilk_add_plugin(<name> SOURCES <files>... [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
#
# Builds an Interlock Kit plugin: a MODULE library named ilk-<name>.so with
# hidden visibility, linked against the SDK (ilk::sdk). Used in-tree and, via
# find_package(ilk), by plugins built out of tree.
function(ilk_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "ilk_add_plugin(${name}): no SOURCES given")
  endif()
  set(target "ilk-plugin-${name}")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ilk::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "ilk-${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED ILK_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ILK_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NOT ARG_NO_INSTALL)
    if(DEFINED ILK_PLUGIN_SUBDIR)      # in-tree: relative to the install prefix
      install(TARGETS ${target} LIBRARY DESTINATION "${ILK_PLUGIN_SUBDIR}")
    elseif(DEFINED ILK_PLUGIN_DIR)     # out of tree: beside the installed ilk's own plugins
      install(TARGETS ${target} LIBRARY DESTINATION "${ILK_PLUGIN_DIR}")
    endif()
  endif()
endfunction()

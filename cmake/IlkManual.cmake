# cmake -DILK=<ilk binary> -DOUTPUT_DIR=... -P IlkManual.cmake
#
# The manual page (ilk.1.gz) and the bash completion (ilk.bash), written by the
# built ilk from its own command line's definitions (`ilk --generate ...`).
foreach(what man bash-completion)
  if(what STREQUAL "man")
    set(file "${OUTPUT_DIR}/ilk.1")
  else()
    set(file "${OUTPUT_DIR}/ilk.bash")
  endif()
  execute_process(COMMAND "${ILK}" --generate ${what} OUTPUT_FILE "${file}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ILK} --generate ${what} failed (${rc})")
  endif()
endforeach()
# gzip -n: no name or time stamp in the header, the same bytes every build.
execute_process(COMMAND gzip -9nf "${OUTPUT_DIR}/ilk.1" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip of ${OUTPUT_DIR}/ilk.1 failed (${rc})")
endif()

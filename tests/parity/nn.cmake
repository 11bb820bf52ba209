# Layers, losses, optimizers and training steps against PyTorch: nn_tool runs
# zerfoo on inputs given as safetensors files, test_nn_parity.py makes the
# inputs and the expected results with Debian's python3-torch (1.13), which
# lives in the system interpreter /usr/bin/python3 (scripts/bootstrap.sh
# installs it).
add_executable(nn_tool ${CMAKE_CURRENT_LIST_DIR}/nn_tool.c)
target_compile_options(nn_tool PRIVATE ${ZF_WARN})
target_link_libraries(nn_tool PRIVATE zerfoo_static)
set(ZF_TORCH_PYTHON /usr/bin/python3 CACHE FILEPATH "Python interpreter with torch (python3-torch)")
add_test(NAME nn_parity_torch
  COMMAND ${ZF_TORCH_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_nn_parity.py $<TARGET_FILE:nn_tool>)
set_tests_properties(nn_parity_torch PROPERTIES LABELS parity TIMEOUT 900)

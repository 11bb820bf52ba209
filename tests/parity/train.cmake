# Training against the real references (label "parity"):
#  - train_parity: loss, gradients and optimizer updates of the MLP and LeNet-5
#    against PyTorch (Debian's python3-torch, run with /usr/bin/python3), from the
#    same weights and batches dumped by train_dump;
#  - fashion_mnist_accuracy: 10 epochs of each model on the real data, checking
#    the test accuracy (a few minutes; label "accuracy" too).
# Both exit 77 (skipped) when PyTorch or the dataset is missing.
add_executable(train_dump ${CMAKE_CURRENT_LIST_DIR}/train_dump.c)
target_compile_options(train_dump PRIVATE ${ZF_WARN})
target_link_libraries(train_dump PRIVATE zerfoo_static)
find_program(ZF_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT ZF_SYSTEM_PYTHON)
  set(ZF_SYSTEM_PYTHON python3)
endif()
add_test(NAME train_parity
  COMMAND ${ZF_SYSTEM_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_train_parity.py $<TARGET_FILE:train_dump>)
set_tests_properties(train_parity PROPERTIES LABELS parity TIMEOUT 900 SKIP_RETURN_CODE 77)
add_test(NAME fashion_mnist_accuracy
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_fashion_mnist.sh $<TARGET_FILE:zerfoo>)
set_tests_properties(fashion_mnist_accuracy PROPERTIES LABELS "parity;accuracy" TIMEOUT 1800
  SKIP_RETURN_CODE 77)

/* zerfoo — umbrella header. */
#ifndef ZERFOO_H
#define ZERFOO_H

#include "zerfoo/autograd.h"
#include "zerfoo/checkpoint.h"
#include "zerfoo/data.h"
#include "zerfoo/dtype.h"
#include "zerfoo/engine.h"
#include "zerfoo/error.h"
#include "zerfoo/llm.h"
#include "zerfoo/loss.h"
#include "zerfoo/models.h"
#include "zerfoo/named_tensors.h"
#include "zerfoo/nn.h"
#include "zerfoo/op_table.h"
#include "zerfoo/ops.h"
#include "zerfoo/optim.h"
#include "zerfoo/safetensors.h"
#include "zerfoo/tensor.h"
#include "zerfoo/threadpool.h"
#include "zerfoo/trainer.h"

#define ZERFOO_VERSION "0.1.0"

#endif

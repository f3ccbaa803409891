//===- KanInterfaces.cpp - interfaces of the kan dialect --------*- C++ -*-===//

#include "kan/KanInterfaces.h"

#include "kan/KanInterfaces.cpp.inc"

// OpKernels of the fused LSTM: validate every input, allocate, call functor.
//
// Inputs are checked here even where the shape function already did, since
// shapes can be unknown at graph time; nothing is read before it is checked.
#define EIGEN_USE_THREADS

#include <algorithm>
#include <string>

#include "common/validation.h"
#include "lstm/lstm_kernels.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"

namespace tfrnn {
namespace lstm {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using CPUDevice = Eigen::ThreadPoolDevice;

namespace {

constexpr int kGates = 4;

absl::Status CheckBias(const Tensor& bias, const Dims& d) {
  return CheckShape(bias, "bias", {kGates * d.units});
}

}  // namespace

template <typename Device, typename T>
class LstmOp : public OpKernel {
 public:
  explicit LstmOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("is_training", &is_training_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& h0 = ctx->input(1);
    const Tensor& c0 = ctx->input(2);
    const Tensor& kernel = ctx->input(3);
    const Tensor& recurrent = ctx->input(4);
    const Tensor& bias = ctx->input(5);
    const Tensor& lengths = ctx->input(6);
    Dims d;
    int64_t max_len;
    const T* mask;
    OP_REQUIRES_OK(ctx, CheckInputs(x, 3, {{h0, "h0"}, {c0, "c0"}}, kernel,
                                    recurrent, kGates, &d));
    OP_REQUIRES_OK(ctx, CheckBias(bias, d));
    OP_REQUIRES_OK(ctx, CheckLengths(lengths, d.batch, d.time, &max_len));
    OP_REQUIRES_OK(ctx, CheckRecurrentMask(ctx->input(7), d, &mask));

    const TensorShape seq_h{d.batch, d.time, d.units};
    // The saved gates are time-major: a step's rows are one block.
    const TensorShape seq_g{d.time, d.batch, 4 * d.units};
    const TensorShape state{d.batch, d.units};
    Tensor *output, *h_n, *c_n, *gates_out, *cell_out;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, seq_h, &output));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, state, &h_n));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, state, &c_n));
    T* gates = nullptr;  // inference: the functor keeps what it needs
    T* cell = nullptr;
    if (is_training_) {
      OP_REQUIRES_OK(ctx, ctx->allocate_output(3, seq_g, &gates_out));
      OP_REQUIRES_OK(ctx, ctx->allocate_output(4, seq_h, &cell_out));
      gates = Data<T>(gates_out);
      cell = Data<T>(cell_out);
    } else {
      OP_REQUIRES_OK(ctx, ctx->allocate_output(3, {0}, &gates_out));
      OP_REQUIRES_OK(ctx, ctx->allocate_output(4, {0}, &cell_out));
    }
    Forward<Device, T>()(ctx, d, reverse_, max_len, In<T>(x),
                         In<T>(h0), In<T>(c0),
                         In<T>(kernel), In<T>(recurrent),
                         In<T>(bias), In<int32_t>(lengths), mask,
                         Data<T>(output), Data<T>(h_n), Data<T>(c_n), gates,
                         cell);
  }

 private:
  bool reverse_;
  bool is_training_;
};

template <typename Device, typename T>
class LstmGradOp : public OpKernel {
 public:
  explicit LstmGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& h0 = ctx->input(1);
    const Tensor& c0 = ctx->input(2);
    const Tensor& kernel = ctx->input(3);
    const Tensor& recurrent = ctx->input(4);
    const Tensor& lengths = ctx->input(5);
    const Tensor& output = ctx->input(6);
    const Tensor& gates = ctx->input(7);
    const Tensor& cell = ctx->input(8);
    const Tensor& d_output = ctx->input(9);
    const Tensor& d_h_n = ctx->input(10);
    const Tensor& d_c_n = ctx->input(11);
    Dims d;
    int64_t max_len;
    const T* mask;
    OP_REQUIRES_OK(ctx, CheckInputs(x, 3, {{h0, "h0"}, {c0, "c0"}}, kernel,
                                    recurrent, kGates, &d));
    OP_REQUIRES_OK(ctx, CheckLengths(lengths, d.batch, d.time, &max_len));
    OP_REQUIRES_OK(ctx, CheckRecurrentMask(ctx->input(12), d, &mask));
    const TensorShape seq_h{d.batch, d.time, d.units};
    const TensorShape state{d.batch, d.units};
    OP_REQUIRES_OK(ctx, CheckShape(output, "output", seq_h));
    OP_REQUIRES_OK(ctx, CheckShape(gates, "gates",
                                   {d.time, d.batch, 4 * d.units}));
    OP_REQUIRES_OK(ctx, CheckShape(cell, "cell", seq_h));
    OP_REQUIRES_OK(ctx, CheckShape(d_output, "d_output", seq_h));
    OP_REQUIRES_OK(ctx, CheckShape(d_h_n, "d_h_n", state));
    OP_REQUIRES_OK(ctx, CheckShape(d_c_n, "d_c_n", state));

    Tensor *dx, *dh0, *dc0, *dkernel, *drecurrent, *dbias;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, state, &dh0));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, state, &dc0));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(3, kernel.shape(), &dkernel));
    OP_REQUIRES_OK(ctx,
                   ctx->allocate_output(4, recurrent.shape(), &drecurrent));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(5, {4 * d.units}, &dbias));
    Backward<Device, T>()(
        ctx, d, reverse_, max_len, In<T>(x), In<T>(h0),
        In<T>(c0), In<T>(kernel),
        In<T>(recurrent), In<int32_t>(lengths),
        In<T>(output), In<T>(gates), In<T>(cell),
        In<T>(d_output), In<T>(d_h_n),
        In<T>(d_c_n), mask, Data<T>(dx), Data<T>(dh0), Data<T>(dc0),
        Data<T>(dkernel), Data<T>(drecurrent), Data<T>(dbias));
  }

 private:
  bool reverse_;
};

template <typename Device, typename T>
class LstmStepOp : public OpKernel {
 public:
  explicit LstmStepOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& h = ctx->input(1);
    const Tensor& c = ctx->input(2);
    const Tensor& kernel = ctx->input(3);
    const Tensor& recurrent = ctx->input(4);
    const Tensor& bias = ctx->input(5);
    Dims d;
    OP_REQUIRES_OK(ctx, CheckInputs(x, 2, {{h, "h"}, {c, "c"}}, kernel,
                                    recurrent, kGates, &d));
    OP_REQUIRES_OK(ctx, CheckBias(bias, d));
    Tensor *h_new, *c_new, *gates;
    const TensorShape state{d.batch, d.units};
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, state, &h_new));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, state, &c_new));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, {d.batch, 4 * d.units},
                                             &gates));
    // One step of the sequence functor: T = 1, every row active.
    Forward<Device, T>()(ctx, d, false, 1, In<T>(x),
                         In<T>(h), In<T>(c),
                         In<T>(kernel), In<T>(recurrent),
                         In<T>(bias), nullptr, nullptr, nullptr,
                         Data<T>(h_new), Data<T>(c_new), Data<T>(gates),
                         nullptr);
  }
};

#define TFRNN_REGISTER_CPU(T)                                              \
  REGISTER_KERNEL_BUILDER(                                                 \
      Name("TfrnnLstm").Device(::tensorflow::DEVICE_CPU).TypeConstraint<T>( \
          "T"),                                                            \
      LstmOp<CPUDevice, T>);                                               \
  REGISTER_KERNEL_BUILDER(Name("TfrnnLstmGrad")                            \
                              .Device(::tensorflow::DEVICE_CPU)            \
                              .TypeConstraint<T>("T"),                     \
                          LstmGradOp<CPUDevice, T>);                       \
  REGISTER_KERNEL_BUILDER(Name("TfrnnLstmStep")                            \
                              .Device(::tensorflow::DEVICE_CPU)            \
                              .TypeConstraint<T>("T"),                     \
                          LstmStepOp<CPUDevice, T>);

TFRNN_REGISTER_CPU(float);
TFRNN_REGISTER_CPU(double);
#undef TFRNN_REGISTER_CPU

}  // namespace lstm
}  // namespace tfrnn

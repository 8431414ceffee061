// OpKernels of the fused GRU: validate every input, allocate, call functor.
#define EIGEN_USE_THREADS

#include "common/validation.h"
#include "gru/gru_kernels.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace gru {

using ::tensorflow::OpKernel;
using ::tensorflow::OpKernelConstruction;
using ::tensorflow::OpKernelContext;
using ::tensorflow::Tensor;
using ::tensorflow::TensorShape;
using CPUDevice = Eigen::ThreadPoolDevice;

namespace {

constexpr int kGates = 3;

absl::Status CheckBias(const Tensor& bias, const Dims& d) {
  return CheckShape(bias, "bias", {2, kGates * d.units});
}

}  // namespace

template <typename Device, typename T>
class GruOp : public OpKernel {
 public:
  explicit GruOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("is_training", &is_training_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& h0 = ctx->input(1);
    const Tensor& kernel = ctx->input(2);
    const Tensor& recurrent = ctx->input(3);
    const Tensor& bias = ctx->input(4);
    const Tensor& lengths = ctx->input(5);
    Dims d;
    int64_t max_len;
    OP_REQUIRES_OK(ctx, CheckInputs(x, 3, {{h0, "h0"}}, kernel, recurrent,
                                    kGates, &d));
    OP_REQUIRES_OK(ctx, CheckBias(bias, d));
    OP_REQUIRES_OK(ctx, CheckLengths(lengths, d.batch, d.time, &max_len));
    const T* mask;
    OP_REQUIRES_OK(ctx, CheckRecurrentMask(ctx->input(6), d, &mask));
    Tensor *output, *h_n, *reserve;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(
                            0, {d.batch, d.time, d.units}, &output));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, {d.batch, d.units}, &h_n));
    const TensorShape reserve_shape =
        is_training_ ? TensorShape{d.batch, d.time, kReserveGates * d.units}
                     : TensorShape{0};
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, reserve_shape, &reserve));
    Forward<Device, T>()(ctx, d, reverse_, max_len, In<T>(x), In<T>(h0),
                         In<T>(kernel), In<T>(recurrent), In<T>(bias),
                         In<int32_t>(lengths), mask, Data<T>(output),
                         Data<T>(h_n), is_training_ ? Data<T>(reserve) : nullptr);
  }

 private:
  bool reverse_;
  bool is_training_;
};

template <typename Device, typename T>
class GruGradOp : public OpKernel {
 public:
  explicit GruGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& h0 = ctx->input(1);
    const Tensor& kernel = ctx->input(2);
    const Tensor& recurrent = ctx->input(3);
    const Tensor& lengths = ctx->input(4);
    const Tensor& output = ctx->input(5);
    const Tensor& reserve = ctx->input(6);
    const Tensor& d_output = ctx->input(7);
    const Tensor& d_h_n = ctx->input(8);
    Dims d;
    int64_t max_len;
    OP_REQUIRES_OK(ctx, CheckInputs(x, 3, {{h0, "h0"}}, kernel, recurrent,
                                    kGates, &d));
    OP_REQUIRES_OK(ctx, CheckLengths(lengths, d.batch, d.time, &max_len));
    const TensorShape seq_h{d.batch, d.time, d.units};
    OP_REQUIRES_OK(ctx, CheckShape(output, "output", seq_h));
    OP_REQUIRES_OK(ctx, CheckShape(reserve, "reserve",
                                   {d.batch, d.time, kReserveGates * d.units}));
    OP_REQUIRES_OK(ctx, CheckShape(d_output, "d_output", seq_h));
    OP_REQUIRES_OK(ctx, CheckShape(d_h_n, "d_h_n", {d.batch, d.units}));
    const T* mask;
    OP_REQUIRES_OK(ctx, CheckRecurrentMask(ctx->input(9), d, &mask));
    Tensor *dx, *dh0, *dkernel, *drecurrent, *dbias;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, h0.shape(), &dh0));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, kernel.shape(), &dkernel));
    OP_REQUIRES_OK(ctx,
                   ctx->allocate_output(3, recurrent.shape(), &drecurrent));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(4, {2, kGates * d.units}, &dbias));
    Backward<Device, T>()(
        ctx, d, reverse_, max_len, In<T>(x), In<T>(h0), In<T>(kernel),
        In<T>(recurrent), In<int32_t>(lengths), In<T>(output),
        In<T>(reserve), In<T>(d_output), In<T>(d_h_n), mask, Data<T>(dx),
        Data<T>(dh0), Data<T>(dkernel), Data<T>(drecurrent), Data<T>(dbias));
  }

 private:
  bool reverse_;
};

template <typename Device, typename T>
class GruStepOp : public OpKernel {
 public:
  explicit GruStepOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& h = ctx->input(1);
    const Tensor& kernel = ctx->input(2);
    const Tensor& recurrent = ctx->input(3);
    const Tensor& bias = ctx->input(4);
    Dims d;
    OP_REQUIRES_OK(ctx, CheckInputs(x, 2, {{h, "h"}}, kernel, recurrent,
                                    kGates, &d));
    OP_REQUIRES_OK(ctx, CheckBias(bias, d));
    Tensor *h_new, *reserve;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, h.shape(), &h_new));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(
                            1, {d.batch, kReserveGates * d.units}, &reserve));
    // One step of the sequence functor: T = 1, every row active.
    Forward<Device, T>()(ctx, d, false, 1, In<T>(x), In<T>(h), In<T>(kernel),
                         In<T>(recurrent), In<T>(bias), nullptr, nullptr,
                         nullptr, Data<T>(h_new), Data<T>(reserve));
  }
};

#define TFRNN_REGISTER_CPU(T)                                               \
  REGISTER_KERNEL_BUILDER(                                                  \
      Name("TfrnnGru").Device(::tensorflow::DEVICE_CPU).TypeConstraint<T>(  \
          "T"),                                                             \
      GruOp<CPUDevice, T>);                                                 \
  REGISTER_KERNEL_BUILDER(Name("TfrnnGruGrad")                              \
                              .Device(::tensorflow::DEVICE_CPU)             \
                              .TypeConstraint<T>("T"),                      \
                          GruGradOp<CPUDevice, T>);                         \
  REGISTER_KERNEL_BUILDER(Name("TfrnnGruStep")                              \
                              .Device(::tensorflow::DEVICE_CPU)             \
                              .TypeConstraint<T>("T"),                      \
                          GruStepOp<CPUDevice, T>);

TFRNN_REGISTER_CPU(float);
TFRNN_REGISTER_CPU(double);
#undef TFRNN_REGISTER_CPU

}  // namespace gru
}  // namespace tfrnn

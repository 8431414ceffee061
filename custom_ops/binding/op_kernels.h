// The OpKernels of every fused recurrent op: validate every input, allocate
// the outputs, hand them to the device's engine.
//
// A cell's traits (its Cell struct) say what differs between the ops:
//   kGates               gate columns per unit of W and U (LSTM 4, GRU 3)
//   kSaved               values per unit and step the backward reads
//                        (0: it needs only the outputs)
//   kBiasRows            0: bias [G*H]; 2: [2, G*H] (input, recurrent)
//   kCellState           a second state c beside h (h0/c0, h_n/c_n, cell)
//   kRecurrentGradsDiffer  the h.U side's gate gradients differ from the
//                        x.W side's (the GRU's candidate: r * (h.U + b))
//   kHiddenBypass        part of dh_{t-1} bypasses U (the GRU's z * h)
//   kVariants            the LSTM's options (their inputs after its own,
//                        their gradients last: cells/lstm/lstm_options.h);
//                        under layer norm the saved row is
//                        LayerNormSavedWidth(H) wide; under a projection h
//                        (and its inputs, outputs, mask and zoneout) is P
//                        wide, c H wide
//   kSavedName           the saved values' name in error messages
//   Attrs                the cell's own attributes (the RNN's nonlinearity),
//                        read by ReadCellAttrs(ctx, Attrs*), found by ADL
// An Engine (cpu::Engine in cpu/engine.h) binds a cell's math on a
// device: Engine::Cell (the traits), Engine::T, Engine::Forward/Backward.
// Options (binding/option_inputs.h) reads and checks a cell's option
// inputs by name: the kernels know them through it alone.
//
// Inputs and outputs, in order (c only with kCellState, saved only with
// kSaved, is_training only with kSaved or kCellState):
//   Tfrnn<Cell>      x, h0, c0, kernel, recurrent_kernel, bias,
//                    sequence_length, recurrent_mask, [variants]
//                    -> output, h_n, c_n, saved, cell
//   Tfrnn<Cell>Grad  x, h0, c0, kernel, recurrent_kernel, sequence_length,
//                    output, saved, cell, d_output, d_h_n, d_c_n,
//                    recurrent_mask, [variants] -> dx, dh0, dc0, dkernel,
//                    drecurrent_kernel, dbias, [variants' gradients]
//   Tfrnn<Cell>Step  x, h, c, kernel, recurrent_kernel, bias, [variants]
//                    -> h_new, c_new, saved
// Inputs are checked here even where the shape function already did, since
// shapes can be unknown at graph time; nothing is read before it is checked.
#ifndef TFRNN_CUSTOM_OPS_BINDING_OP_KERNELS_H_
#define TFRNN_CUSTOM_OPS_BINDING_OP_KERNELS_H_

#include <cstdint>

#include "shared/host_device.h"
#include "shared/recurrent_args.h"
#include "binding/option_inputs.h"
#include "binding/validation.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {

inline absl::Status ReadCellAttrs(tensorflow::OpKernelConstruction*,
                                  NoAttrs*) {
  return absl::OkStatus();
}

// The inputs of a kernel, taken in order.
class InputList {
 public:
  explicit InputList(tensorflow::OpKernelContext* ctx) : ctx_(ctx) {}
  const tensorflow::Tensor& Next() { return ctx_->input(next_++); }

 private:
  tensorflow::OpKernelContext* ctx_;
  int next_ = 0;
};

// The outputs of a kernel, allocated in order; an output of shape [0] has
// null data (an inference-mode saved output).
class OutputList {
 public:
  explicit OutputList(tensorflow::OpKernelContext* ctx) : ctx_(ctx) {}
  template <typename T>
  absl::Status Next(const tensorflow::TensorShape& shape, T** data) {
    tensorflow::Tensor* t;
    TF_RETURN_IF_ERROR(ctx_->allocate_output(next_++, shape, &t));
    *data = Data<T>(t);
    return absl::OkStatus();
  }

 private:
  tensorflow::OpKernelContext* ctx_;
  int next_ = 0;
};

// The cell's bias shape: [G*H], or [rows, G*H].
template <typename Cell>
tensorflow::TensorShape BiasShape(const Dims& d) {
  const int64_t width = Cell::kGates * d.units;
  if (Cell::kBiasRows == 0) return {width};
  return {Cell::kBiasRows, width};
}

template <typename Cell>
absl::Status CheckBias(const tensorflow::Tensor& bias, const Dims& d) {
  return CheckShape(bias, "bias", BiasShape<Cell>(d));
}

// Takes and checks x, the states and the weights (the inputs every op
// starts with; the LSTM's projection too, read ahead) into args and d;
// returns x.
template <typename Cell, typename Options, typename T>
absl::Status TakeStatesAndWeights(tensorflow::OpKernelContext* ctx,
                                  InputList& in, int x_rank,
                                  const char* h_name, const char* c_name,
                                  Dims* d, SequenceInputs<T>* args,
                                  const tensorflow::Tensor** x) {
  *x = &in.Next();
  const tensorflow::Tensor& h_t = in.Next();
  const tensorflow::Tensor& c_t = Cell::kCellState ? in.Next() : h_t;
  const tensorflow::Tensor& kernel_t = in.Next();
  const tensorflow::Tensor& recurrent_t = in.Next();
  const tensorflow::Tensor* projection;
  TF_RETURN_IF_ERROR(Options::Projection(ctx, &projection));
  if (Cell::kCellState) {
    TF_RETURN_IF_ERROR(CheckInputs(
        **x, x_rank, {{h_t, h_name}, {c_t, c_name, true}}, kernel_t,
        recurrent_t, projection, Cell::kGates, d));
  } else {
    TF_RETURN_IF_ERROR(CheckInputs(**x, x_rank, {{h_t, h_name}}, kernel_t,
                                   recurrent_t, projection, Cell::kGates, d));
  }
  if (projection != nullptr && !IsNone(*projection)) {
    args->projection = In<T>(*projection);
  }
  args->x = In<T>(**x);
  args->h0 = In<T>(h_t);
  args->c0 = Cell::kCellState ? In<T>(c_t) : nullptr;
  args->kernel = In<T>(kernel_t);
  args->recurrent_kernel = In<T>(recurrent_t);
  return absl::OkStatus();
}

// The next input as the bias, checked.
template <typename Cell, typename T>
absl::Status TakeBias(InputList& in, const Dims& d, SequenceInputs<T>* args) {
  const tensorflow::Tensor& bias = in.Next();
  TF_RETURN_IF_ERROR(CheckBias<Cell>(bias, d));
  args->bias = In<T>(bias);
  return absl::OkStatus();
}

// The next input as sequence_length, checked; sets walk->max_len.
template <typename T>
absl::Status TakeLengths(InputList& in, Walk* walk, SequenceInputs<T>* args) {
  const tensorflow::Tensor& lengths = in.Next();
  TF_RETURN_IF_ERROR(CheckLengths(lengths, walk->dims.batch, walk->dims.time,
                                  &walk->max_len));
  args->lengths = In<int32_t>(lengths);
  return absl::OkStatus();
}

template <typename Engine, typename Options>
class SequenceOp : public tensorflow::OpKernel {
  using Cell = typename Engine::Cell;
  using T = typename Engine::T;

 public:
  explicit SequenceOp(tensorflow::OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
    if (Cell::kSaved > 0 || Cell::kCellState) {
      OP_REQUIRES_OK(ctx, ctx->GetAttr("is_training", &is_training_));
    }
    OP_REQUIRES_OK(ctx, ReadCellAttrs(ctx, &attrs_));
  }

  void Compute(tensorflow::OpKernelContext* ctx) override {
    OP_REQUIRES_OK(ctx, ComputeOrFail(ctx));
  }

 private:
  absl::Status ComputeOrFail(tensorflow::OpKernelContext* ctx) {
    InputList in(ctx);
    Walk walk{{}, reverse_, 0};
    Dims& d = walk.dims;
    SequenceInputs<T> args{};
    const tensorflow::Tensor* x;
    TF_RETURN_IF_ERROR(
        (TakeStatesAndWeights<Cell, Options, T>(ctx, in, 3, "h0", "c0", &d,
                                                &args, &x)));
    TF_RETURN_IF_ERROR((TakeBias<Cell, T>(in, d, &args)));
    TF_RETURN_IF_ERROR(TakeLengths(in, &walk, &args));
    TF_RETURN_IF_ERROR(CheckRecurrentMask(in.Next(), d, &args.recurrent_mask));
    TF_RETURN_IF_ERROR(Options::Take(ctx, d, Engine::kInputsOnHost, &args));

    OutputList out(ctx);
    ForwardOutputs<T> results{};
    const tensorflow::TensorShape seq_h{d.batch, d.time, d.hidden};
    const tensorflow::TensorShape seq_c{d.batch, d.time, d.units};
    const tensorflow::TensorShape none{0};
    TF_RETURN_IF_ERROR(out.Next(seq_h, &results.output));
    TF_RETURN_IF_ERROR(out.Next({d.batch, d.hidden}, &results.h_n));
    if (Cell::kCellState) {
      TF_RETURN_IF_ERROR(out.Next({d.batch, d.units}, &results.c_n));
    }
    if (Cell::kSaved > 0) {  // time-major: a step's rows are one block
      TF_RETURN_IF_ERROR(out.Next(
          is_training_ ? tensorflow::TensorShape{d.time, d.batch,
                                                 SavedWidth<Cell>(args,
                                                                  d.units)}
                       : none,
          &results.saved));
    }
    if (Cell::kCellState) {
      TF_RETURN_IF_ERROR(
          out.Next(is_training_ ? seq_c : none, &results.cell));
    }
    Engine::Forward(ctx, attrs_, walk, args, results);
    return absl::OkStatus();
  }

  bool reverse_ = false;
  bool is_training_ = false;
  typename Cell::Attrs attrs_;
};

template <typename Engine, typename Options>
class SequenceGradOp : public tensorflow::OpKernel {
  using Cell = typename Engine::Cell;
  using T = typename Engine::T;

 public:
  explicit SequenceGradOp(tensorflow::OpKernelConstruction* ctx)
      : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("reverse", &reverse_));
    OP_REQUIRES_OK(ctx, ReadCellAttrs(ctx, &attrs_));
  }

  void Compute(tensorflow::OpKernelContext* ctx) override {
    OP_REQUIRES_OK(ctx, ComputeOrFail(ctx));
  }

 private:
  absl::Status ComputeOrFail(tensorflow::OpKernelContext* ctx) {
    InputList in(ctx);
    Walk walk{{}, reverse_, 0};
    Dims& d = walk.dims;
    SequenceInputs<T> args{};
    const tensorflow::Tensor* x;
    TF_RETURN_IF_ERROR(
        (TakeStatesAndWeights<Cell, Options, T>(ctx, in, 3, "h0", "c0", &d,
                                                &args, &x)));
    TF_RETURN_IF_ERROR(TakeLengths(in, &walk, &args));

    const tensorflow::TensorShape seq_h{d.batch, d.time, d.hidden};
    const tensorflow::TensorShape seq_c{d.batch, d.time, d.units};
    const tensorflow::TensorShape state_h{d.batch, d.hidden};
    const tensorflow::TensorShape state_c{d.batch, d.units};
    SavedForward<T> fwd{};
    const auto take = [&](const char* name,
                          const tensorflow::TensorShape& shape,
                          const T** data) -> absl::Status {
      const tensorflow::Tensor& t = in.Next();
      TF_RETURN_IF_ERROR(CheckShape(t, name, shape));
      *data = In<T>(t);
      return absl::OkStatus();
    };
    // recurrent_mask and the options come last but set the saved row's
    // width: read them first.
    const tensorflow::Tensor* mask;
    TF_RETURN_IF_ERROR(ctx->input("recurrent_mask", &mask));
    TF_RETURN_IF_ERROR(CheckRecurrentMask(*mask, d, &args.recurrent_mask));
    TF_RETURN_IF_ERROR(Options::Take(ctx, d, Engine::kInputsOnHost, &args));
    TF_RETURN_IF_ERROR(take("output", seq_h, &fwd.output));
    if (Cell::kSaved > 0) {
      const int64_t width = SavedWidth<Cell>(args, d.units);
      TF_RETURN_IF_ERROR(
          take(Cell::kSavedName, {d.time, d.batch, width}, &fwd.saved));
    }
    if (Cell::kCellState) TF_RETURN_IF_ERROR(take("cell", seq_c, &fwd.cell));
    TF_RETURN_IF_ERROR(take("d_output", seq_h, &fwd.d_output));
    TF_RETURN_IF_ERROR(take("d_h_n", state_h, &fwd.d_h_n));
    if (Cell::kCellState) {
      TF_RETURN_IF_ERROR(take("d_c_n", state_c, &fwd.d_c_n));
    }

    OutputList out(ctx);
    Gradients<T> grads{};
    TF_RETURN_IF_ERROR(out.Next(x->shape(), &grads.dx));
    TF_RETURN_IF_ERROR(out.Next(state_h, &grads.dh0));
    if (Cell::kCellState) TF_RETURN_IF_ERROR(out.Next(state_c, &grads.dc0));
    const int64_t G = Cell::kGates * d.units;
    TF_RETURN_IF_ERROR(out.Next({d.input, G}, &grads.dkernel));
    TF_RETURN_IF_ERROR(out.Next({d.hidden, G}, &grads.drecurrent_kernel));
    TF_RETURN_IF_ERROR(out.Next(BiasShape<Cell>(d), &grads.dbias));
    TF_RETURN_IF_ERROR(Options::AllocateGradients(ctx, &grads));
    Engine::Backward(ctx, attrs_, walk, args, fwd, grads);
    return absl::OkStatus();
  }

  bool reverse_ = false;
  typename Cell::Attrs attrs_;
};

// One step for decoding: the sequence forward with T = 1, every row active.
template <typename Engine, typename Options>
class StepOp : public tensorflow::OpKernel {
  using Cell = typename Engine::Cell;
  using T = typename Engine::T;

 public:
  explicit StepOp(tensorflow::OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ReadCellAttrs(ctx, &attrs_));
  }

  void Compute(tensorflow::OpKernelContext* ctx) override {
    OP_REQUIRES_OK(ctx, ComputeOrFail(ctx));
  }

 private:
  absl::Status ComputeOrFail(tensorflow::OpKernelContext* ctx) {
    InputList in(ctx);
    Walk walk{{}, false, 1};
    Dims& d = walk.dims;
    SequenceInputs<T> args{};
    const tensorflow::Tensor* x;
    TF_RETURN_IF_ERROR(
        (TakeStatesAndWeights<Cell, Options, T>(ctx, in, 2, "h", "c", &d,
                                                &args, &x)));
    TF_RETURN_IF_ERROR((TakeBias<Cell, T>(in, d, &args)));
    // a per-step zoneout is [B, 1, H] here
    TF_RETURN_IF_ERROR(Options::Take(ctx, d, Engine::kInputsOnHost, &args));

    OutputList out(ctx);
    ForwardOutputs<T> results{};
    TF_RETURN_IF_ERROR(out.Next({d.batch, d.hidden}, &results.h_n));
    if (Cell::kCellState) {
      TF_RETURN_IF_ERROR(out.Next({d.batch, d.units}, &results.c_n));
    }
    if (Cell::kSaved > 0) {
      TF_RETURN_IF_ERROR(out.Next({d.batch, SavedWidth<Cell>(args, d.units)},
                                  &results.saved));
    }
    Engine::Forward(ctx, attrs_, walk, args, results);
    return absl::OkStatus();
  }

  typename Cell::Attrs attrs_;
};

// The kernels of Tfrnn<name>, Tfrnn<name>Grad and Tfrnn<name>Step on `device`
// for one engine (a type of the device's engine for a cell and dtype) and
// the cell's Options.
#define TFRNN_REGISTER_RECURRENT_KERNELS(name, device, T, engine, options)  \
  REGISTER_KERNEL_BUILDER(                                                  \
      Name("Tfrnn" name).Device(device).TypeConstraint<T>("T"),             \
      ::tfrnn::SequenceOp<engine, options>);                                \
  REGISTER_KERNEL_BUILDER(                                                  \
      Name("Tfrnn" name "Grad").Device(device).TypeConstraint<T>("T"),      \
      ::tfrnn::SequenceGradOp<engine, options>);                            \
  REGISTER_KERNEL_BUILDER(                                                  \
      Name("Tfrnn" name "Step").Device(device).TypeConstraint<T>("T"),      \
      ::tfrnn::StepOp<engine, options>)

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_BINDING_OP_KERNELS_H_

"""
The MSFL network at a glance
============================

A drawing of what :class:`~sklearn_msfl.MultitaskSERClassifier` builds (the
:class:`~sklearn_msfl.network.MSFLNetwork` module) and how it is trained:

1. one global openSMILE feature vector per utterance (e.g. the 1582 IS10
   functionals), standardised on the training data;
2. the *feature dimensions become time steps*: consecutive features are grouped
   into patches (``patch_size``, about 16 steps by default; one feature per step
   in the paper), and every feature gets its own linear embedding;
3. a (bidirectional) LSTM reads the steps one after the other;
4. attention pooling scores every step and sums the LSTM states with softmax
   weights: one weight per feature, which is also the explanation of which
   features the model relies on (the *multilingual shared features*);
5. shared dense layers feed one classification head per task: emotion (the main
   task) and language (the auxiliary task);
6. the task losses are summed with weights that GradNorm adapts so that the tasks
   train at similar rates, using the gradient norms each task puts on the last
   shared layer.

The figure only needs matplotlib.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

N_STEPS = 4  # LSTM steps drawn
FEATURES_PER_STEP = 3
STEP_Y = [5.6, 4.4, 3.2, 2.0]  # the sequence runs from top to bottom
PATCH_COLORS = ["#4C72B0", "#55A868", "#C44E52", "#8172B2"]
SHARED_COLOR = "#F2F2F2"


def box(ax, x, y, text, width=1.1, height=0.7, color=SHARED_COLOR, fontsize=9, **kwargs):
    """A rounded box centred on (x, y)."""
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height,
            boxstyle="round,pad=0.04,rounding_size=0.12",
            facecolor=color, edgecolor="0.25", linewidth=1.0, **kwargs,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, style="-|>", color="0.25", linestyle="-", connection="arc3"):
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle=style, mutation_scale=11, color=color,
            linestyle=linestyle, linewidth=1.0, connectionstyle=connection,
            shrinkA=2, shrinkB=2,
        )
    )


fig, ax = plt.subplots(figsize=(12, 6.4))
ax.set_xlim(-0.2, 12.9)
ax.set_ylim(-0.4, 7.2)
ax.set_axis_off()

# Input features, grouped into patches (the LSTM's time steps)
for step, y in enumerate(STEP_Y):
    for k in range(FEATURES_PER_STEP):
        feature_y = y + (1 - k) * 0.3
        ax.add_patch(
            plt.Rectangle((0.35, feature_y - 0.12), 0.5, 0.24,
                          facecolor=PATCH_COLORS[step], alpha=0.35 + 0.2 * k, edgecolor="white")
        )
    ax.text(0.1, y, f"$x_{{{3 * step + 1}..{3 * step + 3}}}$", ha="right", va="center",
            fontsize=9)
    box(ax, 2.0, y, f"patch {step + 1}\n+ embedding", width=1.4, height=0.8,
        color=PATCH_COLORS[step], alpha=0.25)
    arrow(ax, (0.9, y), (1.3, y))
ax.text(0.6, 6.55, "feature vector\n(d openSMILE\nfunctionals,\nstandardised)",
        ha="center", va="bottom", fontsize=9)

# LSTM over the steps (both directions), attention weights per step
for step, y in enumerate(STEP_Y):
    box(ax, 4.0, y, f"$h_{step + 1}$", width=0.9, height=0.7, color="#FCE9C7")
    arrow(ax, (2.7, y), (3.55, y))
    if step < N_STEPS - 1:
        arrow(ax, (3.85, y - 0.35), (3.85, STEP_Y[step + 1] + 0.35))
        arrow(ax, (4.15, STEP_Y[step + 1] + 0.35), (4.15, y - 0.35))
    weight = [0.15, 0.45, 0.1, 0.3][step]
    ax.add_patch(plt.Rectangle((5.0, y - 0.18), 1.6 * weight, 0.36, color="#DD8452"))
    ax.text(5.0 + 1.6 * weight + 0.08, y, f"$a_{step + 1}$", va="center", fontsize=9)
    arrow(ax, (4.45, y), (4.95, y))
    arrow(ax, (6.15, y), (7.05, 3.8), connection="arc3,rad=0")
ax.text(4.0, 6.55, "(bi)LSTM reads\nfeatures as\ntime steps", ha="center", va="bottom",
        fontsize=9)
ax.text(5.6, 6.55, "attention\n$a = $softmax$(v^T \\tanh(W h_t))$", ha="center",
        va="bottom", fontsize=9)

box(ax, 7.5, 3.8, "pooled\n$\\sum_t a_t h_t$", width=1.0, height=0.9)

# Shared layers, task heads, losses and GradNorm
box(ax, 9.0, 3.8, "shared dense\n(ReLU, dropout)", width=1.4, height=0.9, color="#DDEBF7")
arrow(ax, (8.0, 3.8), (8.3, 3.8))
box(ax, 10.6, 5.0, "emotion head\n(main task)", width=1.4, height=0.8, color="#E2F0D9")
box(ax, 10.6, 2.6, "language head\n(auxiliary)", width=1.4, height=0.8, color="#E2F0D9")
arrow(ax, (9.7, 4.0), (9.9, 4.9))
arrow(ax, (9.7, 3.6), (9.9, 2.7))
box(ax, 12.05, 5.0, "$L_{emotion}$", width=0.8, height=0.6, color="white")
box(ax, 12.05, 2.6, "$L_{language}$", width=0.8, height=0.6, color="white")
arrow(ax, (11.3, 5.0), (11.65, 5.0))
arrow(ax, (11.3, 2.6), (11.65, 2.6))

box(ax, 10.8, 0.55, "GradNorm: loss $= \\sum_i w_i L_i$;  $w_i$ adapted so that\n"
    "$\\|\\nabla_W w_i L_i\\|$ tracks each task's training rate",
    width=3.4, height=0.9, color="#FFF2CC", fontsize=8.5)
arrow(ax, (12.05, 2.3), (12.05, 1.0), connection="arc3,rad=0")
arrow(ax, (12.45, 5.0), (12.45, 1.0), connection="arc3,rad=-0.12")
arrow(ax, (9.1, 1.0), (9.0, 3.35), linestyle="--", color="#B8860B")
ax.text(8.15, 1.9, "gradient norms at\nthe last shared\nlayer $W$", fontsize=8,
        color="#B8860B", ha="center")

# Explanation: the attention weights rank the features
box(ax, 5.4, 0.55, "mean attention per feature = multilingual shared features\n"
    "(sklearn_msfl.explain.shared_features)", width=4.6, height=0.9, color="#FBE5D6",
    fontsize=8.5)
arrow(ax, (5.6, 1.75), (5.5, 1.0), linestyle="--", color="#DD8452")

ax.set_title("MSFL: multitask shared feature learning for multilingual emotion recognition",
             fontsize=12)
fig.tight_layout()
plt.show()

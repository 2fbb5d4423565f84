"""
The MSFL network at a glance: the paper's form and the default
===============================================================

:class:`~sklearn_msfl.MultitaskSERClassifier` builds one of two networks (the
:class:`~sklearn_msfl.msfl.MSFLNetwork` module), chosen by
``architecture``. This example draws both side by side.

Both read one global openSMILE feature vector per utterance (e.g. the 1582 IS10
functionals, standardised on the training data) with the *feature dimensions as
the time steps* of an LSTM, pool the sequence with attention into one vector,
pass it through a shared dense layer to one classification head per task
(emotion, the main task, and language, the auxiliary task), and sum the task
losses with weights that GradNorm adapts from the gradient norms each task puts
on the last shared layer ``W``. They differ in what a step reads and what the
attention weights:

``architecture="paper"`` (left, Ma & Wang 2022)
    One raw feature value per LSTM step (``patch_size=1``: 1582 steps on IS10),
    a one-way LSTM, and attention over the LSTM *states*
    (``attention_values="states"``): state ``h_t`` gets the weight ``a_t``, the
    pooled vector is ``sum_t a_t h_t``, and ``a_t`` is feature ``t``'s weight.

``architecture="msfl"`` (right, the default)
    The features are read in patches of ``ceil(d / 16)`` (99 on IS10), so the
    LSTM reads about 16 steps. Every feature gets its own embedding
    ``e_i = x_i W_i + b_i``. Inside each step a *feature attention* scores every
    feature from its own embedding (``u^T e``) and a softmax over the step's
    features gives ``alpha``, which pools the step's embeddings into the LSTM's
    input ``z_s``. A bidirectional LSTM reads the steps; a *step attention*
    scores each step from its LSTM state and its weights ``beta`` pool the step
    *inputs* ``z_s`` (``attention_values="inputs"``). A feature's weight is
    ``beta_s * alpha_sj``: its step's weight times its weight within the step,
    so every feature has a weight of its own and the weights sum to one over
    all features.

In both networks the attention weights are what
:func:`~sklearn_msfl.explain.shared_features` averages and ranks (the
*multilingual shared features*). The figure only needs matplotlib.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

EDGE = "0.25"
INPUT_COLOR = "#DCE6F2"
PATCH_COLORS = ["#4C72B0", "#55A868", "#8172B2"]
LSTM_COLOR = "#FCE9C7"
ATTENTION_COLOR = "#DD8452"
SHARED_COLOR = "#DDEBF7"
HEAD_COLOR = "#E2F0D9"
GRADNORM_COLOR = "#FFF2CC"
LABEL_X = 0.0  # row descriptions, left of the network
ROW = {"input": 9.3, "embed": 8.2, "step_input": 7.05, "lstm": 5.85, "pooled_steps": 4.6,
       "pooled": 3.45, "shared": 2.45, "heads": 1.45, "gradnorm": 0.35}


def box(ax, x, y, text, width, height, color, fontsize=9, alpha=1.0):
    """A rounded box centred on (x, y)."""
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=color, edgecolor=EDGE, linewidth=0.9, alpha=alpha,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color=EDGE, linestyle="-", linewidth=0.9, rad=0.0):
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=9, color=color,
            linestyle=linestyle, linewidth=linewidth, shrinkA=1, shrinkB=1,
            connectionstyle=f"arc3,rad={rad}",
        )
    )


def row_label(ax, row, text, color="0.15"):
    ax.text(LABEL_X, ROW[row], text, ha="left", va="center", fontsize=8.5, color=color)


def dots(ax, x, y):
    ax.text(x, y, "$\\cdots$", ha="center", va="center", fontsize=12)


def common_top(ax, pooled_text):
    """Pooled vector, shared layer, task heads and GradNorm: the same in both networks."""
    box(ax, 6.6, ROW["pooled"], pooled_text, width=2.6, height=0.62, color="white")
    box(ax, 6.6, ROW["shared"], "shared dense layer $W$ (ReLU, dropout)", width=4.0,
        height=0.55, color=SHARED_COLOR)
    arrow(ax, (6.6, ROW["pooled"] - 0.31), (6.6, ROW["shared"] + 0.28))
    for x, name in [(4.9, "emotion head\n(main task) $\\to L_{emotion}$"),
                    (8.3, "language head\n(auxiliary) $\\to L_{language}$")]:
        box(ax, x, ROW["heads"], name, width=3.0, height=0.66, color=HEAD_COLOR, fontsize=8.5)
        arrow(ax, (6.6 + (x - 6.6) * 0.3, ROW["shared"] - 0.28), (x, ROW["heads"] + 0.33))
        arrow(ax, (x, ROW["heads"] - 0.33), (x, ROW["gradnorm"] + 0.36))
    box(ax, 6.6, ROW["gradnorm"],
        "GradNorm: loss $= \\sum_i w_i L_i$, the task weights $w_i$ adapted\n"
        "from the gradient norms each task puts on $W$", width=6.6, height=0.7,
        color=GRADNORM_COLOR, fontsize=8.5)
    row_label(ax, "shared", "shared by\nall tasks")
    row_label(ax, "heads", "one head\nper task")
    row_label(ax, "gradnorm", "training")


def draw_paper(ax):
    """Ma & Wang (2022): one raw value per step, one-way LSTM, attention over the states."""
    columns = [3.2, 4.6, 6.0, 7.4, 10.2]
    names = ["1", "2", "3", "4", "d"]
    weights = [0.25, 0.7, 0.15, 0.45, 0.35]
    for i, (x, name, weight) in enumerate(zip(columns, names, weights)):
        box(ax, x, ROW["input"], f"$x_{name}$", width=0.6, height=0.5, color=INPUT_COLOR)
        arrow(ax, (x, ROW["input"] - 0.25), (x, ROW["lstm"] + 0.3))
        box(ax, x, ROW["lstm"], f"$h_{name}$", width=0.7, height=0.6, color=LSTM_COLOR)
        if i < len(columns) - 1:
            end = columns[i + 1] - 0.35 if i < len(columns) - 2 else 8.35
            arrow(ax, (x + 0.35, ROW["lstm"]), (end, ROW["lstm"]))
        # attention weight a_t of state h_t: a bar, then the pooled sum
        bar_y = ROW["pooled_steps"] - 0.3
        ax.add_patch(plt.Rectangle((x - 0.13, bar_y), 0.26, 0.85 * weight,
                                   color=ATTENTION_COLOR))
        ax.text(x + 0.2, bar_y + 0.1, f"$a_{name}$", fontsize=8.5, va="center", ha="left")
        arrow(ax, (x, ROW["lstm"] - 0.3), (x, bar_y + 0.85 * weight + 0.02))
        arrow(ax, (x, bar_y - 0.02), (6.6 + (x - 6.6) * 0.25, ROW["pooled"] + 0.31),
              linewidth=0.7)
    dots(ax, 8.8, ROW["input"])
    dots(ax, 8.8, ROW["lstm"] + 0.25)
    dots(ax, 8.8, ROW["pooled_steps"])
    arrow(ax, (9.25, ROW["lstm"]), (columns[-1] - 0.35, ROW["lstm"]))
    row_label(ax, "input", "features $x_1 \\ldots x_d$\n(d = 1582 on IS10)")
    row_label(ax, "embed", "one raw value\nper LSTM step\n(patch_size=1)")
    row_label(ax, "lstm", "one-way LSTM,\nd steps")
    row_label(ax, "pooled_steps", "attention over\nthe states:\n"
              "$a_t$ = softmax$_t(v^T \\tanh(W_a h_t))$", color="#A0522D")
    row_label(ax, "pooled", "pooled states")
    common_top(ax, "$\\sum_t a_t h_t$")
    ax.text(6.6, -0.55, "weight of feature $t$: $a_t$ (one per LSTM step)",
            ha="center", va="center", fontsize=9, color="#A0522D")


def draw_msfl(ax):
    """The default: per-feature embeddings, feature attention in a step, step attention."""
    centres = [3.6, 6.0, 9.6]
    steps = ["1", "2", "S"]
    step_weights = [0.3, 0.55, 0.4]
    within = [[0.6, 0.15, 0.25], [0.2, 0.2, 0.6], [0.1, 0.7, 0.2]]
    patch_names = ["step 1: $x_1 \\ldots x_{99}$", "step 2: $x_{100} \\ldots x_{198}$",
                   "step S: $x_{1486} \\ldots x_d$"]
    for s, (cx, name, beta) in enumerate(zip(centres, steps, step_weights)):
        color = PATCH_COLORS[s]
        feature_xs = [cx - 0.62, cx, cx + 0.62]
        z_x, h_x = cx - 0.28, cx - 0.28
        for j, x in enumerate(feature_xs):
            ax.add_patch(plt.Rectangle((x - 0.25, ROW["input"] - 0.22), 0.5, 0.44,
                                       facecolor=color, alpha=0.3, edgecolor=EDGE,
                                       linewidth=0.6))
            ax.add_patch(plt.Rectangle((x - 0.25, ROW["embed"] - 0.22), 0.5, 0.44,
                                       facecolor=color, alpha=0.55, edgecolor=EDGE,
                                       linewidth=0.6))
            ax.text(x, ROW["embed"], "$e$", ha="center", va="center", fontsize=8.5)
            arrow(ax, (x, ROW["input"] - 0.22), (x, ROW["embed"] + 0.22), linewidth=0.7)
            # feature attention alpha: the arrow's width is the feature's weight in its step
            arrow(ax, (x, ROW["embed"] - 0.22), (z_x + (x - cx) * 0.2, ROW["step_input"] + 0.3),
                  color=ATTENTION_COLOR, linewidth=0.6 + 5 * within[s][j])
        ax.text(cx, ROW["input"] + 0.42, patch_names[s], ha="center", va="center", fontsize=8.5)
        box(ax, z_x, ROW["step_input"], f"$z_{name}$", width=0.8, height=0.6, color=color,
            alpha=0.35)
        arrow(ax, (h_x, ROW["step_input"] - 0.3), (h_x, ROW["lstm"] + 0.3))
        box(ax, h_x, ROW["lstm"], f"$h_{name}$", width=0.7, height=0.6, color=LSTM_COLOR)
        # the step attention: scores from the state, pooling the step input z (dashed)
        box(ax, cx + 0.1, ROW["pooled_steps"], f"$\\beta_{name}\\, z_{name}$", width=1.1,
            height=0.55, color="white")
        arrow(ax, (h_x, ROW["lstm"] - 0.3), (h_x, ROW["pooled_steps"] + 0.28),
              color=ATTENTION_COLOR, linewidth=0.6 + 4 * beta)
        ax.text(h_x - 0.1, (ROW["lstm"] + ROW["pooled_steps"]) / 2 - 0.05, f"$\\beta_{name}$",
                fontsize=8.5, ha="right", va="center", color="#A0522D")
        arrow(ax, (z_x + 0.4, ROW["step_input"] - 0.1), (cx + 0.5, ROW["pooled_steps"] + 0.28),
              linestyle="--", rad=-0.25)
        arrow(ax, (cx + 0.1, ROW["pooled_steps"] - 0.28),
              (6.6 + (cx - 6.6) * 0.25, ROW["pooled"] + 0.31), linewidth=0.7)
    for s in range(len(centres) - 1):
        a = centres[s] - 0.28 + 0.35
        b = (centres[s + 1] - 0.28 - 0.35) if s == 0 else 7.5
        arrow(ax, (a, ROW["lstm"] + 0.1), (b, ROW["lstm"] + 0.1), linewidth=0.8)
        arrow(ax, (b, ROW["lstm"] - 0.1), (a, ROW["lstm"] - 0.1), linewidth=0.8)
    arrow(ax, (8.3, ROW["lstm"] + 0.1), (centres[-1] - 0.63, ROW["lstm"] + 0.1), linewidth=0.8)
    arrow(ax, (centres[-1] - 0.63, ROW["lstm"] - 0.1), (8.3, ROW["lstm"] - 0.1), linewidth=0.8)
    for row in ("input", "embed", "step_input", "pooled_steps"):
        dots(ax, 7.9, ROW[row])
    dots(ax, 7.9, ROW["lstm"] + 0.3)
    row_label(ax, "input", "features in patches of\n$\\lceil d/16 \\rceil$ (99 on IS10)")
    row_label(ax, "embed", "per-feature embedding\n$e_i = x_i W_i + b_i$")
    row_label(ax, "step_input", "feature attention in a step:\n"
              "$\\alpha_{sj}$ = softmax$_j(u^T e_{sj})$\n$z_s = \\sum_j \\alpha_{sj} e_{sj}$",
              color="#A0522D")
    row_label(ax, "lstm", "bidirectional LSTM,\nS $\\approx$ 16 steps")
    row_label(ax, "pooled_steps", "step attention:\n"
              "$\\beta_s$ = softmax$_s(v^T \\tanh(W_a h_s))$\n"
              "pools the step inputs $z_s$ (dashed)", color="#A0522D")
    row_label(ax, "pooled", "pooled step inputs")
    common_top(ax, "$\\sum_s \\beta_s z_s$")
    ax.text(6.6, -0.55, "weight of feature $j$ of step $s$: $\\beta_s\\, \\alpha_{sj}$ "
            "(one per feature, summing to 1)", ha="center", va="center", fontsize=9,
            color="#A0522D")


fig, (paper, default) = plt.subplots(1, 2, figsize=(17, 8.6))
for ax in (paper, default):
    ax.set_xlim(-0.1, 11.0)
    ax.set_ylim(-0.85, 9.95)
    ax.set_axis_off()
draw_paper(paper)
paper.set_title('architecture="paper": Ma & Wang (2022)', fontsize=12)
draw_msfl(default)
default.set_title('architecture="msfl" (the default): two-level attention', fontsize=12)
fig.tight_layout()
plt.show()

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # A checkpoint zoo in marimo

    A **model zoo** is a catalogue of trained models. Each model has a *model card* and several
    **checkpoints**: its weights saved at different stages of training (`epoch-0`, `epoch-1`, …
    `epoch-30`). The built-in zoo holds three small models that recognise hand-written digits;
    nothing is downloaded.

    marimo is reactive: a cell that reads the browser's choice runs again whenever you pick
    another checkpoint. In this notebook you will

    1. **browse** the zoo and **pick** a checkpoint of the MLP,
    2. watch the cell below the browser **load exactly those weights** (and print their sha256),
    3. **measure** how many validation digits that checkpoint gets right,
    4. **compare** how the three models learn.
    """)
    return


@app.cell
def _():
    import hashlib
    from pathlib import Path

    import marimo as mo

    import ckptzoo_widgets as cz

    return Path, cz, hashlib, mo


@app.cell
def _(cz):
    zoo = cz.open_zoo()  # the built-in teaching zoo
    return (zoo,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 1. Browse and pick

    Search for `mlp` (press `/` to jump to the search box), open the **Digits MLP** card and click
    a checkpoint row: `epoch-1`, then `epoch-30`. The browser is wrapped in `mo.ui.anywidget`,
    which makes it a marimo UI element: `browser.value["value"]` is the choice
    (`ref`, `model`, `checkpoint`, `library` and `code`).
    """)
    return


@app.cell
def _(cz, mo, zoo):
    browser = mo.ui.anywidget(cz.browse(zoo, query="mlp", selected="digits-mlp@epoch-1"))
    browser
    return (browser,)


@app.cell
def _(Path, browser, cz, hashlib, mo):
    # Runs again each time a checkpoint is picked in the browser above.
    pick = browser.value["value"]
    mo.stop(not pick["ref"], mo.md("Pick a checkpoint in the browser."))
    model = cz.load(pick["ref"])
    weights_sha256 = hashlib.sha256(Path(model.path).read_bytes()).hexdigest()
    print(f"loaded {pick['ref']} sha256 {weights_sha256}")
    model
    return (model,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 2. How good is this checkpoint?

    The zoo ships the 360 validation digits its metrics were measured on. The next cell lets the
    picked checkpoint read them and puts its accuracy beside the one the zoo recorded.
    Pick an early checkpoint, then a late one, and watch both cells below change.
    """)
    return


@app.cell
def _(cz, model, zoo):
    X, y = cz.digits_validation()
    measured = model.score(X, y)
    recorded = zoo.resolve(model.ref)[1].metrics["val_accuracy"]
    print(f"{model.ref}: {int((model.predict(X) == y).sum())}/{len(y)} right")
    print(f"measured accuracy {measured:.1%}, recorded in the zoo {recorded:.1%}")
    return X, y


@app.cell
def _(X, model, y):
    # Which digits does this checkpoint still confuse?
    wrong = model.predict(X) != y
    for digit in range(10):
        missed = int(wrong[y == digit].sum())
        print(digit, f"{missed:2d}/{int((y == digit).sum())}", "#" * missed)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 3. Keep a checkpoint in its own cell

    The reactive cell above always holds the latest pick. To keep one, press **Copy** in the
    browser and paste into a new cell. In marimo the browser writes code that uses this
    notebook's `cz` (a second `import ckptzoo_widgets as cz` would redefine a name, which
    marimo refuses), e.g. `mlp_epoch_30 = cz.load("digits-mlp@epoch-30")`.
    `browser.insert()` has no next cell to fill here: it says so in one line.
    """)
    return


@app.cell
def _(browser):
    browser.insert()
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 4. Compare how the models learn

    The three models on one chart: validation accuracy after each epoch, with each model's best
    checkpoint in the table. Which one learns fastest? Where does validation stop improving?
    """)
    return


@app.cell
def _(cz):
    comparison = cz.compare(["digits-logreg", "digits-mlp", "digits-cnn"], metric="val_accuracy")
    comparison
    return (comparison,)


@app.cell
def _(comparison):
    comparison.table
    return


if __name__ == "__main__":
    app.run()
